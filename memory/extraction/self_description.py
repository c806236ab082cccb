"""Is this sentence an attribute of the agent that said it (or was told it)?

An agent's description of itself — who it is, its role, what it is responsible for or able to do
— is an attribute of its process: kept for that process only, never shared with the entity's
other agents (the sharing model). Recall serves other agents' raw, not yet augmented exchanges, so
it asks this module which sentences to leave out; the test is meant to be the extractor's
judgement of an attribute too.

The test is linguistic, not a list of phrases. A sentence describes the agent when

1. its subject is the agent: "I" in the agent's own messages (role "assistant"), "you" in messages
   addressed to it (role "user"), "this agent/assistant/bot", a possessive role noun ("my role",
   "your job", "my name"), or a frame "As <noun phrase>, I ...";
2. and its predicate describes a standing property rather than an event or a stance:
   - the copula with a noun phrase (a determiner or a name follows: "I am the billing agent",
     "I'm Ada") or with a predicate of role or competence ("responsible for", "in charge of",
     "here to", "designed to", "proficient in");
   - a possessive role noun with a copula or "include(s)/cover(s)" ("My job is to ...");
   - the simple present, or "can"/"will"/"shall", of a verb of activity: "I handle refunds",
     "I can issue credits", "I'll cover the EU accounts" (habitual and modal: what the agent does
     as a rule, can do, or takes on);
   - "have" with experience, expertise, background or access.
   Not: the past tense ("I found", "I checked": events, i.e. findings), the progressive ("I am
   looking into it"), adjectives ("I am sure"), and verbs of thought, perception, speech and
   feeling, whose first person reports a stance or performs an act ("I think", "I see", "I
   recommend", "I can confirm", "I prefer").
"""

from __future__ import annotations

import re

_CONTRACTIONS = (
    (re.compile(r"\b(can)'?t\b"), r"\1 not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bshan'?t\b"), "shall not"),
    (re.compile(r"(\w)n't\b"), r"\1 not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(it|that|this|agent|assistant|bot)'s\b"), r"\1 is"),
)
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019-][a-z0-9]+)*|,")
# Words that only open or frame a sentence: "Hi, ...", "Sure, ...", "Also ...".
_OPENERS = frozenset(
    "hi hello hey greetings yes yeah no sure ok okay well so also now currently today again first great thanks"
    " absolutely certainly indeed just".split()
)
_ADVERBS = frozenset(
    "also only just now still always usually mainly mostly often never primarily generally currently even already"
    " normally typically specifically mostly exclusively personally officially".split()
)
_COPULAS = frozenset({"am", "are", "is", "was", "were"})
_MODALS = frozenset({"can", "will", "shall", "cannot"})
_DO = frozenset({"do", "does"})
_HAVE = frozenset({"have", "has"})
# What follows a copula in a noun phrase ("I am the ...", "I am one of ...", "I am part of ...").
_DETERMINERS = frozenset({"a", "an", "the", "your", "my", "our", "this", "its", "one", "part", "their"})
_DEGREE = frozenset({"bit", "little", "lot"})  # "a bit", "a little", "a lot": degree, not a noun phrase
# Predicates of role and competence after a copula.
_ROLE_PREDICATES = frozenset(
    "responsible accountable tasked assigned dedicated designed built created trained configured deployed"
    " meant supposed specialized specialised proficient experienced skilled fluent certified qualified familiar"
    " able authorized authorised allowed permitted".split()
)
_ROLE_NOUNS = frozenset(
    "role job task tasks duty duties responsibility responsibilities function purpose focus specialty speciality"
    " specialization specialisation area domain name title mandate mission scope remit expertise".split()
)
_ROLE_NOUN_VERBS = frozenset({"is", "are", "was", "includes", "include", "covers", "cover"})
_SELF_NOUNS = frozenset({"agent", "assistant", "bot"})
_HOLDINGS = frozenset({"experience", "expertise", "background", "access", "permission", "permissions", "rights"})
# Verbs of thought, perception, speech and feeling (and light verbs of reports: "I get an error").
_STANCE_VERBS = frozenset(
    "think believe guess suppose suspect reckon feel know understand see notice hear realize realise remember"
    " recall forget wonder imagine expect assume doubt hope wish want need like love prefer hate dislike enjoy"
    " appreciate agree disagree suggest recommend propose advise say tell mean note confirm apologize apologise"
    " thank promise estimate conclude bet regret fear worry trust find get read count would should could might"
    " may must let".split()
)
# Irregular past tenses (regular ones end in -ed): events, not standing properties.
_IRREGULAR_PAST = frozenset(
    "found saw made took ran wrote sent got spoke told thought knew gave came went built kept left met paid read"
    " set put did had said heard held led lost meant brought bought caught taught sold understood won began"
    " chose fell forgot drove flew grew drew threw shut spent stood sat hit cut let became broke".split()
)
_FRAME = re.compile(r"^as (?:a|an|the|your|my|this|its|our) [^,]{1,80}, (i|you)\b")


def is_self_description(sentence: str, role: str) -> bool:
    """True when `sentence`, said in a message of `role` ("assistant": the agent speaks; "user":
    someone speaks to the agent), describes the agent itself: its identity, role, responsibilities
    or abilities. Such a sentence is an attribute of the agent's process (see the module docstring)."""
    person = {"assistant": "i", "user": "you"}.get((role or "").lower())
    if person is None:
        return False
    text = sentence.lower().replace("\u2019", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    frame = _FRAME.match(text)
    if frame is not None:
        return frame.group(1) == person
    words = _WORD.findall(text)
    original = re.findall(r"[A-Za-z0-9]+", sentence)
    while words and (words[0] in _OPENERS or words[0] == ","):
        words.pop(0)
    if len(words) < 2:
        return False
    if words[0] in ("my", "your") and words[0] == ("my" if person == "i" else "your"):
        return words[1] in _ROLE_NOUNS and len(words) > 2 and words[2] in _ROLE_NOUN_VERBS
    if words[0] == person:
        rest, third_person = words[1:], False
    elif words[0] == "this" and words[1] in _SELF_NOUNS and person == "i":
        rest, third_person = words[2:], True
    else:
        return False
    return _describes(rest, third_person, original)


def _describes(words: list[str], third_person: bool, original: list[str]) -> bool:
    """The predicate test, on the words after the subject."""
    while len(words) > 1 and (words[0] in _ADVERBS or words[0].endswith("ly")):
        words = words[1:]
    if not words:
        return False
    head, rest = words[0], [word for word in words[1:] if word != "not"]
    if head in _COPULAS:
        return bool(rest) and _nominal_or_role(rest, original)
    if head in _MODALS or head in _DO:
        return bool(rest) and rest[0] not in _STANCE_VERBS and rest[0] not in ("be", "have")
    if head in _HAVE:
        return any(word in _HOLDINGS for word in rest[:4])
    if not head.isalpha() or head.endswith("ed") or head in _IRREGULAR_PAST:
        return False
    return not _is_stance(head, third_person)


def _nominal_or_role(rest: list[str], original: list[str]) -> bool:
    first, second = rest[0], rest[1] if len(rest) > 1 else ""
    if first in _DETERMINERS:
        return second not in _DEGREE
    if first == "in":
        return second == "charge"
    if first == "here":
        return second in ("to", "for")
    if first in _ROLE_PREDICATES:
        return True
    # A name: "I am Ada" (capitalised as written, past the sentence's first word).
    return any(word.lower() == first and word[:1].isupper() for word in original[1:])


def _is_stance(verb: str, third_person: bool) -> bool:
    """A verb of thought, perception, speech or feeling ("handles" is tried as "handle" and
    "handl"; "worries" as "worry")."""
    if not third_person:
        return verb in _STANCE_VERBS
    forms = {verb, verb[:-1], verb[:-2], verb[:-3] + "y"} if verb.endswith("s") else {verb}
    return bool(forms & _STANCE_VERBS)
