"""Which clauses are worth keeping, and as which kind of memory.

Questions, greetings, thanks and assistant small talk are not memory; instructions to the reader
("click Save", "you can ...") and promises ("I will ...") neither. What is left is classified by
voice and wording: the speaker's own likes are preferences, what a person can do is a skill, what
the assistant says about itself is an attribute of its process, everything else is a fact.
"""

from __future__ import annotations

import re

from memory.extraction.lexicon import DETERMINERS, ORGANISATIONS, PRONOUNS, READER_CHORE, TECHNOLOGIES
from memory.extraction.types import MemoryKind

INTERJECTION = re.compile(
    r"^(?:(?:hi|hello|hey|thanks|thank you|sure|okay|ok|great|yes|no|well|so|alright|absolutely|certainly"
    r"|of course|perfect|awesome|got it|understood)\s*[,.!:;]+\s*)+(?:please\s+)?|^please\s+",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"^(?:hi|hello|hey|greetings|good (?:morning|afternoon|evening)|thanks|thank you|cheers|sure|of course"
    r"|you are welcome|no problem|no worries|glad|happy to|i would be (?:happy|glad)"
    r"|i am (?:happy|glad|sorry|here|afraid|unable|not able|just|an ai|a language model|going to)"
    r"|i hope|hope (?:this|that|it)|here (?:is|are)\b|below (?:is|are)|the following|let me|let us|feel free"
    r"|please (?:let|feel|note)|if you (?:have|need|want|would|are)|do not hesitate|good luck|happy coding"
    r"|i understand|i see\b|sorry|unfortunately,? i|as an ai|is there anything|anything else"
    r"|how (?:can|may) i|what can i|would you like|do you want|i can (?:help|assist)|i will (?:help|assist)"
    r"|i would (?:recommend|suggest) (?:reaching|contacting)|(?:that|this|it) (?:is|sounds|looks) (?:great|good"
    r"|perfect|fine|awesome|helpful)|sounds good|looks good|great question|in summary$|to summarize$"
    r"|(?:i|we) (?:love|like|appreciate) (?:it|this|that)$)\b",
    re.IGNORECASE,
)
QUESTION_START = re.compile(
    r"^(?:(?:can|could|would|will|do|does|did|is|are|should|shall|may) (?:you|i|we|it|there|this|that)\b"
    r"|(?:how|what|why|when|where|who|which)\b)",
    re.IGNORECASE,
)
_ASSISTANT_CHATTER = re.compile(
    r"^(?:you (?:can|could|should|may|might|must|will need|need|would need)\b"
    r"|(?:[^,]{0,60},\s*)?i (?:can|will|shall|may|might|am going to)\b)",
    re.IGNORECASE,
)
_ASSISTANT_SELF = re.compile(
    r"^(?:i am (?:a|an|the|your)\s|as (?:a|an|the|your) [^,]{1,60},\s*i\s|this (?:agent|assistant|bot)\s"
    r"|my (?:role|job|purpose|responsibility|specialty|specialization|focus) (?:is|includes)\s"
    r"|i (?:specialize|specialise|focus|handle|am responsible|work on|was designed|was built|was created)\b)",
    re.IGNORECASE,
)
_PREFERENCE_VERB = (
    r"(?:prefer|prefers|like|likes|love|loves|enjoy|enjoys|hate|hates|dislike|dislikes|want|wants|favou?r|avoid"
    r"|would rather|am a (?:big )?fan of|can not stand)"
)
_PREFERENCE = re.compile(
    r"^(?:i|we|you|(?:the |our |my )?(?:user|customer|client|team)s?)"
    r"(?: (?:really|usually|generally|always|definitely|strongly|also|still|much|do|does|not|never|no longer))*"
    rf" {_PREFERENCE_VERB}\b(?! to\b)|^(?:my|our|your) (?:favou?rite|preferred)\b|^(?:i|we) (?:do )?not want\b",
    re.IGNORECASE,
)
_SKILL = re.compile(
    r"\bknows? how to\b|\b(?:am|is|are|was|were) (?:an? )?(?:very |highly |quite |well )?(?:experienced|proficient"
    r"|skilled|fluent|certified|trained|expert)\b|\bcertified\b|\b(?:have|has|had) (?:\w+ ){0,2}(?:experience"
    r"|expertise|background) (?:in|with)\b|\b(?:am|is|are) (?:an? )(?:[\w.+#-]+ ){0,3}(?:developer|engineer"
    r"|programmer|designer|architect|scientist|analyst|administrator|devops|specialist|consultant)s?\b"
    r"|\b(?:can|could) (?:\w+ )?(?:code|program|write|speak|build|design|develop|deploy|configure|administer|debug"
    r"|analy[sz]e|translate|teach)\b|\bspeaks? (?:fluent )?\w+|\bspeciali[sz](?:es|ed|e) in\b|\bfamiliar with\b",
    re.IGNORECASE,
)
_PERSON_SUBJECT = re.compile(
    r"(?i:i|we|he|she|they|(?:the |our |my |this )?(?:user|customer|client|team|developer|engineer|candidate"
    r"|member)s?)\b|(?P<name>[A-Z][a-z]+)(?: [A-Z][a-z]+)? "
)
_NEGATION = re.compile(r"\b(?:not|never|no longer|no)\b", re.IGNORECASE)
PREFERENCE_KEY = re.compile(r"\b(?:prefer\w*|favou?rite|likes?|dislikes?)\b", re.IGNORECASE)


def is_filler(text: str) -> bool:
    """Greetings, thanks, offers of help and other talk about the conversation itself."""
    return _FILLER.match(text) is not None


def is_question(text: str, work: str) -> bool:
    """A question is not a statement of fact: it ends in a question mark, or starts like one
    ("Can you ...", "How ...") and does not end in a full stop."""
    end = text.rstrip()[-1:]
    if end in ("?", "\uff1f", "\u061f"):
        return True
    return end not in (".", "!") and QUESTION_START.match(work) is not None


def _is_about_a_person(work: str, first: str) -> bool:
    """Skills belong to people: "Maria knows how to...", not "Pinecone is SOC 2 certified"."""
    match = _PERSON_SUBJECT.match(work)
    if match is None or match["name"] is None:
        return match is not None
    return not any(first in words for words in (DETERMINERS, PRONOUNS, TECHNOLOGIES, ORGANISATIONS))


def memory_kind(work: str, role: str, *, has_subject: bool = False) -> MemoryKind | None:
    """The kind of memory a kept clause is, by who says it; None for the assistant's instructions
    to the reader and promises, which are not memory. ``has_subject``: the parser found the
    clause's subject, so a first word like "Email" or "Check" is not an order to the reader."""
    first = work.split(" ", 1)[0].lower()
    if role == "assistant":
        if _ASSISTANT_SELF.match(work):
            return "attribute"
        if (first in READER_CHORE and not has_subject) or _ASSISTANT_CHATTER.match(work):
            return None  # instructions to the reader and promises are not memory
    own_voice = first in (("i", "we") if role == "user" else ("you",))
    if _PREFERENCE.match(work) and (own_voice or first not in ("i", "we", "you")):
        return "preference"
    skill = _SKILL.search(work) if _is_about_a_person(work, first) else None
    if skill is not None and not _NEGATION.search(work, 0, skill.start()):
        return "attribute" if role == "assistant" and first == "i" else "skill"
    return "fact"
