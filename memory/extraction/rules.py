"""The offline extractor: deterministic rules, no model, the default when no LLM is configured.

It reads the user's and the assistant's messages (system prompts only for the agent's own role),
splits them into sentences and list items, keeps what is worth remembering (declarative
statements, the user's task statements, "Key: value" items) and drops questions, greetings, filler
and code. Each kept clause is classified by voice and wording into a fact, preference, skill or
attribute; simple subject-verb-object clauses also become triples; a clause that disagrees with or
refines an existing memory of the entity is marked as a contradiction or an update.

It never raises (a worker must not die on one odd message) and its output is capped per exchange.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from memory.extraction.normalize import normalize_node_name, normalize_text
from memory.extraction.types import (
    ExchangeInput,
    ExtractedMemory,
    ExtractedTriple,
    Extraction,
    MemoryKind,
    RelatedMemory,
)

logger = logging.getLogger(__name__)
_node_key = functools.lru_cache(maxsize=8192)(normalize_node_name)  # the same few names recur

MAX_MEMORIES = 50
MAX_TRIPLES = 50
MAX_CONTENT_CHARS = 500
MAX_NODE_CHARS = 100
MAX_MESSAGE_CHARS = 50_000
MAX_SENTENCE_CHARS = 2_000
MAX_RELATED = 200
MIN_WORDS = 3

SPEAKER_ROLES = frozenset({"user", "assistant"})
INSTRUCTION_ROLES = frozenset({"system", "developer"})

# --- Cleaning: what is not prose is not memory ------------------------------------------------
_CONTEXT_BLOCK = re.compile(r"<memori_context\b[^>]*>.*?(?:</memori_context\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_CODE_FENCE = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[^\n]*$|\Z)", re.MULTILINE | re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>\n]{0,200})?/?>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060\ufeff]")
_IMAGE = re.compile(r"!\[[^\]\n]{0,200}\]\([^)\n]{0,500}\)")
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\([^)\n]{0,500}\)")
_EMPHASIS = re.compile(r"\*\*|__|~~|`|[*_](?=\S)(?<!\w[*_])|[*_](?!\w)(?<=\S[*_])")  # each starts with a literal

# --- Blocks and sentences ---------------------------------------------------------------------
_HEADING = re.compile(r"^#{1,6}\s+(.*?)[\s#]*$")
_BULLET = re.compile(r"^(?:[-*+\u2022\u2023\u25e6\u25aa]|\d{1,3}[.)]|[a-z]\))\s+(?:\[[ xX]\]\s+)?(.*)$")
_RULE_LINE = re.compile(r"^(?:[-*_=]\s*){3,}$")
_TABLE_SEPARATOR = re.compile(r"^\|?[\s:|-]+\|?$")
_SENTENCE_END = re.compile(r"(?<=[.!?\u0964\u06d4\u061f])\s+|(?<=[\u3002\uff01\uff1f])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|mr|mrs|ms|dr|prof|inc|ltd|co|st|no|approx|incl|dept|fig|jr|sr)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)
_CLAUSE_SPLIT = re.compile(r"\s*;\s+|,?\s+(?:and|but)\s+(?=(?:I|we|he|she|they|you)[\s'\u2019])", re.IGNORECASE)
_KEY_VALUE = re.compile(r"^(?P<key>[^:\uff1a.!?]{1,60}?)\s*[:\uff1a]\s+(?P<value>\S.*)$")
_DASH_KEY_VALUE = re.compile(r"^(?P<key>[^\u2013\u2014:.!?]{1,60}?)\s+(?:\u2013|\u2014|-{1,2})\s+(?P<value>\S.*)$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")

# --- Voice and kind ---------------------------------------------------------------------------
_CONTRACTION = re.compile(
    r"\b(?:can't|won't|let's|(?:it|that|there|here|what|who|this)'s)\b|n't\b|'(?:m|re|ve|ll|d)\b", re.IGNORECASE
)
_EXPANSIONS = {"can't": "can not", "won't": "will not", "let's": "let us", "n't": " not", "'m": " am", "'re": " are"}
_EXPANSIONS |= {"'ve": " have", "'ll": " will", "'d": " would"}
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_INTERJECTION = re.compile(
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
_QUESTION_START = re.compile(
    r"^(?:(?:can|could|would|will|do|does|did|is|are|should|shall|may) (?:you|i|we|it|there|this|that)\b"
    r"|(?:how|what|why|when|where|who|which)\b)",
    re.IGNORECASE,
)
_READER_CHORE = frozenset(
    "click tap go navigate open visit contact reach call email run install type enter select press log sign"
    " restart refresh reload copy paste see check try make remember note let feel follow save download verify"
    " wait keep double-check provide share send tell confirm reply respond describe give".split()
)
_ASSISTANT_CHATTER = re.compile(
    r"^(?:you (?:can|could|should|may|might|must|will need|need|would need)\b"
    r"|(?:[^,]{0,60},\s*)?i (?:can|will|shall|may|might|am going to)\b)",
    re.IGNORECASE,
)
_SYSTEM_SELF = re.compile(
    r"^(?P<you>you are|your (?P<noun>role|job|task|purpose|responsibility) is"
    r"|you (?P<verb>handle|specialize in|specialise in|focus on|manage|support|assist with|work on))\s+",
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
_TASK_WITH = re.compile(
    r"^(?:implement|build|create|develop|add|set up|write|make) (?P<x>.+?) (?:with|using) (?P<y>.+)$", re.IGNORECASE
)
_TASK_USE = re.compile(r"^use (?P<y>.+)$", re.IGNORECASE)
_CONNECTIVE = re.compile(
    r"^(?:also|additionally|however|currently|now|today|overall|finally|first|second|third|next|then|in addition"
    r"|in summary|in conclusion|for example|for instance|in fact|moreover|furthermore|meanwhile|basically"
    r"|essentially|importantly|notably|to summarize|in short)\b,?\s+",
    re.IGNORECASE,
)
_LABEL_FILLER = re.compile(
    r"^(?:here (?:is|are)|below (?:is|are)|the following(?: (?:is|are))?|these are|there are)\s+(?:the |a |an |some )?",
    re.IGNORECASE,
)
_LABEL_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[IVX]+\.)\s+")
_LABEL_EDGES = re.compile(r"^(?:the|our|my|your|some)\s+|\s+(?:are|is|were|was|include|includes)$", re.IGNORECASE)
_LABEL_KEYS = frozenset(
    "note notes tip tips warning important summary example answer recommendation conclusion update result reason"
    " goal task question nb ps tldr tl;dr solution issue problem context response reply request objective action"
    " edit caveat disclaimer hint fyi".split()
)
_NUMBERED_LABEL = re.compile(r"^(?:step|phase|part|option|section|stage|item) \w+$", re.IGNORECASE)
_PREFERENCE_KEY = re.compile(r"\b(?:prefer\w*|favou?rite|likes?|dislikes?)\b", re.IGNORECASE)
_IMPERATIVE = _READER_CHORE | frozenset(
    "analyze analyse focus include implement use build create research review prepare evaluate add write develop"
    " design test deploy set consider ensure avoid provide define gather process handle identify compare assess"
    " synthesize explore investigate find get fix update remove delete move change integrate configure optimize"
    " monitor document plan help".split()
)

# --- Triples ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verb:
    pattern: str
    predicate: str
    negated: str
    functional: bool = False  # one object at a time: a different object contradicts
    personal: bool = False  # its base form needs a person ("Tools like X" is not a liking)


_VERBS = (
    _Verb(r"(?:(?:is|are|was|were) )?(?:located|based|headquartered) in", "located_in", "not_located_in", True),
    _Verb(r"(?:lives|live|lived) in", "lives_in", "does_not_live_in", True, True),
    _Verb(r"(?:(?:is|are|was|were) )?written in", "written_in", "not_written_in", True),
    _Verb(r"(?:(?:is|are|was|were) )?(?:built|made) (?:with|on|using)", "built_with", "not_built_with"),
    _Verb(r"(?:(?:is|are) )?(?:hosted|deployed) (?:on|to)", "hosted_on", "not_hosted_on"),
    _Verb(r"(?:(?:is|are|was|were) )?part of", "part_of", "not_part_of"),
    _Verb(r"(?:(?:was|were) )?founded in", "founded_in", "not_founded_in", True),
    _Verb(r"(?:works|work|worked) (?:at|for)", "works_at", "does_not_work_at", True, True),
    _Verb(r"(?:(?:is|are|was|were) using|uses|use|used|relies on|rely on|relied on)", "uses", "does_not_use"),
    _Verb(r"(?:integrates|integrate|(?:is|are) integrated) with", "integrates_with", "does_not_integrate_with"),
    _Verb(r"(?:depends|depend|depended) on", "depends_on", "does_not_depend_on"),
    _Verb(r"(?:runs|run) on", "runs_on", "does_not_run_on"),
    _Verb(r"(?:connects|connect) to", "connects_to", "does_not_connect_to"),
    _Verb(r"(?:competes|compete) with", "competes_with", "does_not_compete_with"),
    _Verb(r"(?:has|have|had)(?! (?:been|to|got)\b)", "has", "does_not_have"),
    _Verb(r"(?:includes|include|included)", "includes", "does_not_include"),
    _Verb(r"(?:contains|contain)", "contains", "does_not_contain"),
    _Verb(r"(?:supports|support)", "supports", "does_not_support"),
    _Verb(r"(?:requires|require|needs|need)(?! to\b)", "requires", "does_not_require"),
    _Verb(r"(?:provides|provide|offers|offer)", "provides", "does_not_provide"),
    _Verb(r"(?:stores|store)", "stores", "does_not_store"),
    _Verb(r"(?:handles|handle)", "handles", "does_not_handle"),
    _Verb(r"(?:manages|manage)", "manages", "does_not_manage"),
    _Verb(r"(?:owns|own)", "owns", "does_not_own"),
    _Verb(r"(?:leads|lead)", "leads", "does_not_lead"),
    _Verb(r"(?:prefers|prefer)", "prefers", "does_not_prefer", personal=True),
    _Verb(r"(?:likes|like|loves|love|enjoys|enjoy)", "likes", "does_not_like", personal=True),
    _Verb(r"(?:dislikes|dislike|hates|hate)", "dislikes", "does_not_dislike", personal=True),
    _Verb(r"(?:wants|want)(?! to\b)", "wants", "does_not_want", personal=True),
    _Verb(r"(?:knows|know)(?! how\b)", "knows", "does_not_know", personal=True),
    _Verb(r"(?:speaks|speak)", "speaks", "does_not_speak", personal=True),
    _Verb(r"(?:costs|cost)", "costs", "does_not_cost", True),
    _Verb(r"(?:acquired|acquires)", "acquired", "not_acquired"),
    _Verb(r"(?:replaces|replace|replaced)", "replaces", "does_not_replace"),
    _Verb(r"(?:targets|target)", "targets", "does_not_target"),
    _Verb(r"(?:serves|serve)", "serves", "does_not_serve"),
    _Verb(r"(?:am|is|are|was|were)", "is", "is_not", True),
)
_NEGATED = {verb.predicate: verb.negated for verb in _VERBS} | {"is_a": "is_not_a"}
_VERB_CLAUSE = re.compile(
    r"(?P<neg1>(?:(?:does|do|did|will|would|can|could|should) not|no longer|never|(?:am|is|are|was|were) not) )?"
    r"(?:" + "|".join(f"(?P<v{i}>{verb.pattern})" for i, verb in enumerate(_VERBS)) + r")\b"
    r"(?P<neg2> not)?\s+(?P<obj>\S.*)$",
    re.IGNORECASE,
)
# Words a verb clause can start with: a cheap test before trying the big pattern at a position.
_VERB_CLAUSE_STARTS = frozenset(
    re.findall(r"[a-z]+", " ".join(verb.pattern for verb in _VERBS))
    + "does do did will would can could should no never am is are was were".split()
)
_OBJECT_END = re.compile(
    r"\s*(?:[;:()\[\]\"]|\s[-\u2013\u2014]\s|(?:^|(?<=\s))(?:for|because|since|so|when|while|which|that|who|whose|where"
    r"|whereas|to|with|without|in|on|at|by|from|via|through|as|if|unless|until|after|before|during|per|instead"
    r"|but|than|across|within|into|over|under|using|based|including|such)(?=\s|$))",
    re.IGNORECASE,
)
_ITEM_SPLIT = re.compile(r"\s*,(?!\d{3})\s*(?:and\s+)?|\s+and\s+|\s+&\s+")
_NAME_CHARS = re.compile(r"^[\w.+#&'/$%-]+$")
_DETERMINERS = frozenset(
    "the a an our my your their its his her this that these those some all any several many multiple various both"
    " each every".split()
)
_PRONOUNS = frozenset(
    "i me we us you it they them he him she her this that these those there here which who what everything"
    " something nothing anything anyone everyone someone one".split()
)
_AUX = frozenset(
    "am is are was were be been being do does did has have had will would can could should must may might not"
    " no never".split()
)
_FUNCTION_WORDS = frozenset(
    "that which who whom whose if when whether because since although while and or but so to then than as like"
    " such including".split()
)
_NOT_AN_OBJECT = frozenset(
    "also still very now currently just really able going available here there important possible likely"
    " unlikely true false responsible required needed necessary sure ready done new".split()
)
_PARTICIPLES = frozenset(
    "sent built made done given taken known seen shown written run held kept set paid sold told found brought"
    " bought left lost meant put read said spent understood chosen driven broken spoken hidden begun grown thrown"
    " drawn".split()
)
_PREPOSITIONS = frozenset("in on at for by from with after before during since of to into about".split())
_BAD_OBJECT_START = _PRONOUNS | _AUX | _NOT_AN_OBJECT
_TRAILING_PARTICIPLE = re.compile(r"\s+[a-z]+ed$")
_ALTERNATIVE = re.compile(r"\bor\b", re.IGNORECASE)
_PEOPLE = frozenset("user users team customer customers client clients people".split())

# --- Node types: a small heuristic, enough to colour the graph --------------------------------
_TECHNOLOGIES = frozenset(
    "python typescript javascript java go golang rust ruby php kotlin swift scala c c++ c# elixir sql postgresql"
    " postgres mysql mariadb sqlite redis mongodb cassandra dynamodb elasticsearch opensearch kafka rabbitmq celery"
    " docker kubernetes k8s terraform ansible aws gcp azure s3 ec2 lambda linux git react vue angular svelte django"
    " flask fastapi rails express node node.js next.js graphql rest grpc jwt oauth oauth2 saml sso bcrypt argon2"
    " tls ssl https http websocket websockets pinecone weaviate qdrant milvus chroma pgvector faiss lancedb llm llms"
    " langchain llamaindex pandas numpy pytorch tensorflow database framework library server api sdk cache queue"
    " vector".split()
)
_ORGANISATIONS = frozenset(
    "openai anthropic google microsoft amazon meta apple ibm oracle stripe github gitlab salesforce nvidia"
    " huggingface team company".split()
)
_PLACES = frozenset(
    "paris london berlin tokyo new york san francisco seattle boston chicago amsterdam dublin madrid rome beijing"
    " shanghai singapore sydney toronto vancouver mumbai bangalore usa us united states uk united kingdom germany"
    " france china india japan canada europe asia africa australia brazil spain italy".split()
) | {"new york", "san francisco", "united states", "united kingdom"}
_ORG_SUFFIX = re.compile(
    r"\b(?:inc|ltd|llc|corp|corporation|gmbh|co|labs|technologies|systems|group|bank|university|foundation)\.?$"
)
_PERSON_TITLE = re.compile(r"^(?:mr|mrs|ms|dr|prof)\.?\s")
_PROPER_NAME = re.compile(r"^[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}$")
_TECH_SHAPE = re.compile(r"[a-z][A-Z]|\w\.js\b|(?:DB|SQL|API|SDK|QL)s?\b|^[A-Z]{2,5}s?$|(?:^|\s)[A-Za-z][A-Za-z.-]*\d")
_PLACE_PREDICATES = frozenset({"located_in", "lives_in"})
_ORG_PREDICATES = frozenset({"works_at", "competes_with", "acquired"})
_PERSON_PREDICATES = frozenset({"works_at", "lives_in", "speaks", "knows", "prefers", "likes", "dislikes", "wants"})


def _node_type(name: str, predicate: str, *, is_object: bool) -> str:
    key = _node_key(name)
    if key in _PLACES or (is_object and predicate in _PLACE_PREDICATES):
        return "place"
    if key in {"user", "customer", "client"} or _PERSON_TITLE.match(key):
        return "person"
    if key in _ORGANISATIONS or _ORG_SUFFIX.search(key) or (is_object and predicate in _ORG_PREDICATES):
        return "organisation"
    if key in _TECHNOLOGIES or any(word in _TECHNOLOGIES for word in key.split()) or _TECH_SHAPE.search(name):
        return "technology"
    if not is_object and predicate in _PERSON_PREDICATES and _PROPER_NAME.match(name):
        return "person"
    return "concept"


# --- Clause analysis --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Relation:
    subject: str
    predicate: str  # positive form: "uses", "is_a"
    object: str
    negated: bool
    functional: bool
    subject_key: str
    object_key: str
    object_is_name: bool  # "PostgreSQL", "$50k": things that cannot both be true of one subject

    @property
    def label(self) -> str:
        return _NEGATED.get(self.predicate, f"not_{self.predicate}") if self.negated else self.predicate


def _relation(subject: str, predicate: str, obj: str, *, negated: bool = False, functional: bool = False):
    object_key = _node_key(obj)
    short = len(obj.split()) <= 2  # "PostgreSQL 16", "$50k": a value, not a description
    is_name = short and (any(c.isupper() or c.isdigit() for c in obj) or object_key in _TECHNOLOGIES)
    subject_key = _node_key(subject)
    if not subject_key or not object_key or subject_key == object_key:
        return None
    return _Relation(subject, predicate, obj, negated, functional, subject_key, object_key, is_name)


@dataclass(frozen=True)
class _Clause:
    kind: MemoryKind
    content: str
    relations: tuple[_Relation, ...]
    position: int


def _expand(match: re.Match) -> str:
    word = match.group(0)
    lowered = word.lower()
    if lowered.endswith("'s") and lowered != "let's":
        return word[:-2] + " is"
    return _EXPANSIONS[lowered]


def _work(text: str) -> str:
    """The clause as the rules read it: straight quotes, contractions spelled out, no connective,
    no closing punctuation. Content keeps the original wording."""
    text = text.translate(_CURLY)
    if "'" in text:
        text = _CONTRACTION.sub(_expand, text)
    text = _CONNECTIVE.sub("", " ".join(text.split()))
    return text.rstrip(" .!?;:,\u2026\u3002\uff01\uff1f\u061f\u0964\u06d4")


def _enough_words(work: str) -> bool:
    return len(work.split(None, MIN_WORDS - 1)) >= MIN_WORDS or len(_CJK.findall(work[:200])) >= 4


def _is_question(text: str, work: str) -> bool:
    end = text.rstrip()[-1:]
    if end in ("?", "\uff1f", "\u061f"):
        return True
    return end not in (".", "!") and _QUESTION_START.match(work) is not None


def _clip(text: str, limit: int = MAX_CONTENT_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit - 1].rstrip() + "\u2026"


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _subject_name(tokens: list[str], role: str) -> str | None:
    if len(tokens) == 1:
        word = tokens[0].lower()
        if word == "i" and role == "user":
            return "user"
        if word == "we" and role == "user":
            return "team"
        if word == "you" and role == "assistant":
            return "user"
    while tokens and tokens[0].lower() in _DETERMINERS:
        tokens = tokens[1:]
    if not 1 <= len(tokens) <= 5 or tokens[0].lower() in _PRONOUNS:
        return None
    for token in tokens:
        lowered = token.lower()
        if lowered in _AUX or lowered in _FUNCTION_WORDS or lowered in _PRONOUNS or not _NAME_CHARS.match(token):
            return None
    name = " ".join(tokens)
    return name if len(name) <= MAX_NODE_CHARS else None


def _is_value(name: str) -> bool:
    """A proper name, a number or a technology ("PostgreSQL", "$50k", "bcrypt"), not an adjective."""
    last = name.rsplit(" ", 1)[-1]
    if last.islower() and (last.endswith("ed") or last in _PARTICIPLES):
        return False
    return any(c.isupper() or c.isdigit() for c in name) or _node_key(name) in _TECHNOLOGIES


def _object_names(text: str, predicate: str) -> list[tuple[str, bool]]:
    """The object phrase cut at the first clause boundary, split into list items; each item
    with whether it had an indefinite article ("is a vector database" -> is_a)."""
    cut = _OBJECT_END.search(text)
    if cut:  # "a vector database focused | on ...": drop the participle that led into the cut
        text = _TRAILING_PARTICIPLE.sub("", text[: cut.start()])
    if _ALTERNATIVE.search(text):
        return []  # alternatives are not facts
    names = []
    for raw in _ITEM_SPLIT.split(text.strip(" ,.!?'\"*")):
        tokens = [token for token in raw.strip(" .!?'\"*").split() if any(c.isalnum() for c in token)]
        indefinite = bool(tokens) and tokens[0].lower() in ("a", "an")
        while tokens and tokens[0].lower() in _DETERMINERS:
            tokens = tokens[1:]
        if not tokens or len(tokens) > 5 or tokens[0].lower() in _BAD_OBJECT_START:
            continue
        if any(t.lower() in _PRONOUNS or t.lower() in _AUX or not _NAME_CHARS.match(t) for t in tokens):
            continue
        name = " ".join(tokens)
        if predicate == "is" and not indefinite and not _is_value(name):
            continue  # "is fast", "is sent", "is AWS certified": a quality, not a thing
        if len(name) <= MAX_NODE_CHARS and any(c.isalnum() for c in name):
            names.append((name, indefinite))
    return names


def _svo_relations(work: str, role: str) -> list[_Relation]:
    """Subject (at most five words) + known verb + object items: "Our API uses JWT tokens"."""
    tokens = work[:200].split(" ")
    starts = list(itertools.accumulate(len(token) + 1 for token in tokens[:5]))
    for k, offset in enumerate(starts, start=1):
        if k >= len(tokens) or tokens[k].lower() not in _VERB_CLAUSE_STARTS:
            continue
        match = _VERB_CLAUSE.match(work, offset)
        if match is None:
            continue
        subject = _subject_name(tokens[:k], role)
        if subject is None:
            continue
        index = next(i for i in range(len(_VERBS)) if match.group(f"v{i}") is not None)
        verb = _VERBS[index]
        if verb.personal and not match.group(f"v{index}").lower().endswith("s") and subject.lower() not in _PEOPLE:
            continue
        negated = bool(match["neg1"] or match["neg2"])
        found = []
        for name, indefinite in _object_names(match["obj"], verb.predicate):
            predicate = "is_a" if verb.predicate == "is" and indefinite else verb.predicate
            functional = verb.functional and predicate != "is_a"
            relation = _relation(subject, predicate, name, negated=negated, functional=functional)
            if relation is not None:
                found.append(relation)
        return found
    return []


def _relations(work: str, role: str) -> tuple[_Relation, ...]:
    if role == "user":  # the user's task statements: "Implement X with Y", "Use Y for Z"
        task = _TASK_WITH.match(work)
        if task is not None:
            subject = _subject_name(task["x"].split(), role)
            names = _object_names(task["y"], "uses") if subject else []
            return tuple(r for name, _ in names if (r := _relation(subject, "uses", name)) is not None)
        task = _TASK_USE.match(work)
        if task is not None:
            names = _object_names(task["y"], "uses")
            return tuple(r for name, _ in names if (r := _relation("project", "uses", name)) is not None)
    return tuple(_svo_relations(work, role))


def _is_about_a_person(work: str, first: str) -> bool:
    """Skills belong to people: "Maria knows how to...", not "Pinecone is SOC 2 certified"."""
    match = _PERSON_SUBJECT.match(work)
    if match is None or match["name"] is None:
        return match is not None
    return not any(first in words for words in (_DETERMINERS, _PRONOUNS, _TECHNOLOGIES, _ORGANISATIONS))


def _kind(work: str, role: str) -> MemoryKind | None:
    first = work.split(" ", 1)[0].lower()
    if role == "assistant":
        if _ASSISTANT_SELF.match(work):
            return "attribute"
        if first in _READER_CHORE or _ASSISTANT_CHATTER.match(work):
            return None  # instructions to the reader and promises are not memory
    own_voice = first in (("i", "we") if role == "user" else ("you",))
    if _PREFERENCE.match(work) and (own_voice or first not in ("i", "we", "you")):
        return "preference"
    skill = _SKILL.search(work) if _is_about_a_person(work, first) else None
    if skill is not None and not _NEGATION.search(work, 0, skill.start()):
        return "attribute" if role == "assistant" and first == "i" else "skill"
    return "fact"


def _clause(text: str, role: str, position: int, *, capitalize: bool = False) -> _Clause | None:
    text = text.strip(" ,;")[:MAX_SENTENCE_CHARS]
    work = _work(text)
    if not _enough_words(work) or _is_question(text, work) or _FILLER.match(work):
        return None
    kind = _kind(work, role)
    if kind is None:
        return None
    relations = () if kind == "attribute" else _relations(work, role)
    return _Clause(kind, _clip(_capitalize(text) if capitalize else text), relations, position)


def _key_value_clause(key: str, value: str, position: int, *, predicate: str | None = None) -> _Clause | None:
    """ "Database: PostgreSQL" -> a fact and (Database, is, PostgreSQL); several values -> includes."""
    work = _work(value)
    if not work or _is_question(value, work) or not any(c.isalnum() for c in work):
        return None
    kind: MemoryKind = "preference" if _PREFERENCE_KEY.search(key) else "fact"
    relations: list[_Relation] = []
    first = work.split(" ", 1)[0].lower()
    if (predicate or first not in _IMPERATIVE) and (first in ("a", "an") or _is_short_list(work)):
        names = _object_names(work, "is")
        default = predicate or ("includes" if len(names) > 1 else "is")
        for name, indefinite in names:
            chosen = "is_a" if default == "is" and indefinite else default
            relation = _relation(key, chosen, name, functional=chosen == "is")
            if relation is not None:
                relations.append(relation)
    return _Clause(kind, _clip(f"{key}: {value.strip()}"), tuple(relations), position)


def _is_short_list(value: str) -> bool:
    items = _ITEM_SPLIT.split(value)
    return len(items) <= 8 and all(len(item.split()) <= 5 for item in items)


def _key_name(key: str) -> str | None:
    words = key.split()
    if not 1 <= len(words) <= 5 or not any(c.isalpha() for c in key) or _QUESTION_START.match(key):
        return None
    if any(w.lower() in _AUX or w.lower() in _PRONOUNS or w.lower() in _FUNCTION_WORDS for w in words):
        return None
    if words[0].lower() in _PREPOSITIONS or words[-1].lower() in _PREPOSITIONS:
        return None  # "In 2023: the market grew" is a sentence, not a key
    return key.strip(" *_")


def _sentence_clauses(sentence: str, role: str, position: int, *, item: bool, label: str | None):
    sentence = sentence.strip()
    text = _INTERJECTION.sub("", sentence).strip()
    if not text:
        return
    stripped = text != sentence
    pair = _KEY_VALUE.match(text) or (_DASH_KEY_VALUE.match(text) if item else None)
    key = _key_name(pair["key"]) if pair else None
    if key is not None:
        if key.lower() not in _LABEL_KEYS and not _NUMBERED_LABEL.match(key):
            clause = _key_value_clause(key, pair["value"], position)
            if clause is not None:
                yield clause
            return
        text, stripped = pair["value"], True  # "Note: the API uses JWT" is the sentence after the label
    elif item and label and not _enough_words(_work(text)):
        clause = _key_value_clause(label, text, position, predicate="includes")
        if clause is not None:
            yield clause
        return
    for part in _CLAUSE_SPLIT.split(text):
        clause = _clause(part, role, position, capitalize=stripped)
        if clause is not None:
            yield clause


# --- Messages ---------------------------------------------------------------------------------


def _clean_message(text: object) -> str:
    if not isinstance(text, str):
        return ""
    text = _CONTEXT_BLOCK.sub("\n", text[: MAX_MESSAGE_CHARS * 4])  # memory we injected ourselves
    if "```" in text or "~~~" in text:
        text = _CODE_FENCE.sub("\n", text)
    text = _CONTROL.sub(" ", _HTML_TAG.sub(" ", text[: MAX_MESSAGE_CHARS * 2]))
    return _EMPHASIS.sub("", _LINK.sub(r"\1", _IMAGE.sub(" ", text)))[:MAX_MESSAGE_CHARS]


def _blocks(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for each paragraph, list item, heading and table row of markdown text."""
    kind, lines, header = "para", [], None
    for raw in text.split("\n"):
        line = " ".join(raw.split()).lstrip("> ").strip()
        row, heading, bullet = line.startswith("|"), _HEADING.match(line), _BULLET.match(line)
        if lines and (not line or row or heading or bullet or _RULE_LINE.match(line)):
            yield kind, " ".join(lines)
            kind, lines = "para", []
        if not row:
            header = None
        if not line or _RULE_LINE.match(line) or (row and _TABLE_SEPARATOR.match(line)):
            continue
        if row:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if header is None:
                header = cells
            else:
                pairs = zip(header, cells, strict=False)
                yield "row", "; ".join(f"{h}: {c}" if h else c for h, c in pairs if c)
        elif heading:
            yield "heading", heading[1]
        elif bullet:
            kind, lines = "item", [bullet[1]]
        elif kind == "item" and not raw[:1].isspace():
            yield kind, " ".join(lines)
            kind, lines = "para", [line]
        else:
            lines.append(line)
    if lines:
        yield kind, " ".join(lines)


def _sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(text):
        if not piece:
            continue
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _label(text: str) -> str | None:
    label = _LABEL_FILLER.sub("", _LABEL_NUMBER.sub("", _work(text))).strip(" *_")
    label = _LABEL_EDGES.sub("", label)
    return _capitalize(label) if label and len(label.split()) <= 6 and not _FILLER.match(label) else None


def _speaker_clauses(text: str, role: str, position: int) -> Iterator[_Clause]:
    heading_label = lead_label = None
    for kind, block in _blocks(text):
        if kind == "heading":
            heading_label, lead_label = _label(block), None
            continue
        if kind == "row":
            work = _work(block)
            if _enough_words(work):
                yield _Clause("fact", _clip(block), (), position)
            continue
        sentences = _sentences(block)
        if kind == "para":
            lead_label = None
            if sentences and sentences[-1].rstrip().endswith((":", "\uff1a")):
                lead_label = _label(sentences.pop())
        for sentence in sentences:
            label = (lead_label or heading_label) if kind == "item" else None
            yield from _sentence_clauses(sentence, role, position, item=kind == "item", label=label)


def _instruction_clauses(text: str, position: int) -> Iterator[_Clause]:
    """A system prompt is read only for who the agent is: "You are a billing specialist." becomes
    the attribute "This agent is a billing specialist." (stored for this process only)."""
    for sentence in _sentences(text.replace("\n", " ")):
        work = _work(sentence)
        match = _SYSTEM_SELF.match(work)
        if match is None or not _enough_words(work):
            continue
        if match["noun"]:
            lead = f"This agent's {match['noun'].lower()} is"
        elif match["verb"]:
            verb, _, rest = match["verb"].lower().partition(" ")
            lead = " ".join(filter(None, ("This agent", verb + ("es" if verb.endswith("s") else "s"), rest)))
        else:
            lead = "This agent is"
        yield _Clause("attribute", _clip(f"{lead} {work[match.end() :]}."), (), position)


def _message_clauses(message: object) -> Iterator[_Clause]:
    role = str(getattr(message, "role", "") or "").lower()
    position = getattr(message, "position", 0)
    position = position if isinstance(position, int) else 0
    text = _clean_message(getattr(message, "content", ""))
    if role in SPEAKER_ROLES:
        yield from _speaker_clauses(text, role, position)
    elif role in INSTRUCTION_ROLES:
        yield from _instruction_clauses(text, position)


# --- Updates and contradictions ---------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    memory_id: int
    is_attribute: bool
    content: str
    normalized: str

    @property
    def relations(self) -> tuple[_Relation, ...]:
        return _read_known(self.content)


def _contains(text: str, part: str) -> bool:
    return f" {part} " in f" {text} "


_normalized = functools.lru_cache(maxsize=4096)(normalize_text)
_IMPLICIT_SUBJECTS = frozenset({"user", "team", "project"})  # "I prefer ..." never names its subject


@functools.lru_cache(maxsize=4096)
def _read_known(content: str) -> tuple[_Relation, ...]:
    """An existing memory read like a user's statement; cached, as the same few memories of an
    entity are shown to the extractor again and again."""
    work = _work(content)
    pair = _KEY_VALUE.match(work)
    key = _key_name(pair["key"]) if pair else None
    parsed = _key_value_clause(key, pair["value"], 0) if key else None
    return parsed.relations if parsed else _relations(work, "user")


class _RelatedIndex:
    """The entity's related memories, to judge a new clause against: a memory is only parsed when
    it mentions the subject of a new relation."""

    def __init__(self, related: Sequence[RelatedMemory]) -> None:
        self.known: list[_Known] = []
        for memory in list(related or ())[:MAX_RELATED]:
            content = getattr(memory, "content", "")
            memory_id = getattr(memory, "memory_id", None)
            if isinstance(content, str) and isinstance(memory_id, int):
                content = content[:MAX_SENTENCE_CHARS]
                is_attribute = getattr(memory, "kind", "") == "attribute"
                self.known.append(_Known(memory_id, is_attribute, content, _normalized(content)))

    def judge(self, clause: _Clause, normalized: str) -> tuple[str, int | None]:
        known = [k for k in self.known if k.is_attribute == (clause.kind == "attribute") and k.normalized != normalized]
        for new in clause.relations:
            implicit = new.subject_key in _IMPLICIT_SUBJECTS
            for memory in known:
                if not implicit and new.subject_key not in memory.normalized:
                    continue
                for old in memory.relations:
                    if (old.subject_key, old.predicate) == (new.subject_key, new.predicate):
                        verdict = _compare(new, old)
                        if verdict is not None:
                            return verdict, memory.memory_id
        for memory in known:
            if 12 <= len(memory.normalized) < len(normalized) and _contains(normalized, memory.normalized):
                return "update", memory.memory_id  # restates an existing memory with more detail
        return "new", None


def _compare(new: _Relation, old: _Relation) -> str | None:
    """Same subject and predicate: the opposite claim or another exclusive value contradicts, a
    more detailed object updates."""
    if new.object_key == old.object_key:
        return "contradiction" if new.negated != old.negated else None
    if new.negated != old.negated:
        return None
    if _contains(new.object_key, old.object_key):
        return "update"
    exclusive = new.predicate != "is" or (new.object_is_name and old.object_is_name)
    if new.functional and old.functional and exclusive and not _contains(old.object_key, new.object_key):
        return "contradiction"
    return None


# --- Entry points -----------------------------------------------------------------------------


def _extract(exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
    index = _RelatedIndex(related)
    memories: list[ExtractedMemory] = []
    triples: list[ExtractedTriple] = []
    seen_contents: set[str] = set()
    seen_triples: set[tuple[str, str, str]] = set()
    for message in exchange.messages or ():
        for clause in _message_clauses(message):
            normalized = normalize_text(clause.content)
            if not normalized or normalized in seen_contents:
                continue
            seen_contents.add(normalized)
            if len(memories) < MAX_MEMORIES:
                relation, related_id = index.judge(clause, normalized)
                memories.append(ExtractedMemory(clause.kind, clause.content, clause.position, relation, related_id))
            for rel in clause.relations:
                key = (rel.subject_key, rel.label, rel.object_key)
                if len(triples) < MAX_TRIPLES and key not in seen_triples:
                    seen_triples.add(key)
                    subject_type = _node_type(rel.subject, rel.predicate, is_object=False)
                    object_type = _node_type(rel.object, rel.predicate, is_object=True)
                    triples.append(
                        ExtractedTriple(rel.subject, subject_type, rel.label, rel.object, object_type, clause.position)
                    )
            if len(memories) >= MAX_MEMORIES and len(triples) >= MAX_TRIPLES:
                return Extraction(tuple(memories), tuple(triples))
    return Extraction(tuple(memories), tuple(triples))


def extract(exchange: ExchangeInput, related: Sequence[RelatedMemory] = ()) -> Extraction:
    """Memories and triples of one exchange. Never raises: on a bug it logs and returns nothing,
    so one odd message cannot stop the augmentation worker."""
    try:
        return _extract(exchange, related)
    except Exception:
        logger.exception("rules extractor failed on an exchange of entity %r", getattr(exchange, "entity_id", None))
        return Extraction()


class RulesExtractor:
    """The ``Extractor`` the worker uses when no model is configured."""

    name = "rules"

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory] = ()) -> Extraction:
        return extract(exchange, related)
