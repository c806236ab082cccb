"""One message in, what to read out of it: structured items taken as they are, and prose to parse.

A speaker's message (user or assistant) is read block by block. In the assistant's replies, table
rows are facts, "Key: value" items become facts with a ("Key", is, value) relation, and headings
and "The key players are:" lines label the list items under them (kept as "Label: item" when an
item is not a sentence of its own). Every sentence is prose for the parser (rules.py), which keeps
only self-contained statements: the user's "Research: X" and other orders are not memory. A
system or developer prompt is read only for who the agent is ("You are a billing specialist." ->
the attribute "This agent is a billing specialist."). Tool messages are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from memory.extraction.classify import (
    INTERJECTION,
    PREFERENCE_KEY,
    QUESTION_START,
    is_filler,
    is_question,
    memory_kind,
)
from memory.extraction.lexicon import AUX, FUNCTION_WORDS, IMPERATIVE, LABEL_KEYS, PREPOSITIONS, PRONOUNS
from memory.extraction.sentences import (
    clean_message,
    clip,
    enough_words,
    markdown_blocks,
    sentence_case,
    split_sentences,
    working_text,
)
from memory.extraction.triples import ClauseRelation, is_short_list, object_names, relation_between
from memory.extraction.types import MemoryKind

MAX_SENTENCE_CHARS = 2_000
SPEAKER_ROLES = frozenset({"user", "assistant"})
INSTRUCTION_ROLES = frozenset({"system", "developer"})

_CLAUSE_SPLIT = re.compile(r"\s*;\s+|,?\s+(?:and|but)\s+(?=(?:I|we|he|she|they|you)[\s'\u2019])", re.IGNORECASE)
KEY_VALUE = re.compile(r"^(?P<key>[^:\uff1a.!?]{1,60}?)\s*[:\uff1a]\s+(?P<value>\S.*)$")
_DASH_KEY_VALUE = re.compile(r"^(?P<key>[^\u2013\u2014:.!?]{1,60}?)\s+(?:\u2013|\u2014|-{1,2})\s+(?P<value>\S.*)$")
_SYSTEM_SELF = re.compile(
    r"^(?P<you>you are|your (?P<noun>role|job|task|purpose|responsibility) is"
    r"|you (?P<verb>handle|specialize in|specialise in|focus on|manage|support|assist with|work on))\s+",
    re.IGNORECASE,
)
_LABEL_FILLER = re.compile(
    r"^(?:here (?:is|are)|below (?:is|are)|the following(?: (?:is|are))?|these are|there are)\s+(?:the |a |an |some )?",
    re.IGNORECASE,
)
_LABEL_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[IVX]+\.)\s+")
_LABEL_EDGES = re.compile(r"^(?:the|our|my|your|some)\s+|\s+(?:are|is|were|was|include|includes)$", re.IGNORECASE)
_NUMBERED_LABEL = re.compile(r"^(?:step|phase|part|option|section|stage|item) \w+$", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """A memory taken as written (a table row, a "Key: value" item, the agent's role): its kind,
    its content (clipped) and the relations it states."""

    kind: MemoryKind
    content: str
    relations: tuple[ClauseRelation, ...]
    position: int


@dataclass(frozen=True)
class Prose:
    """A sentence for the parser. ``label``: the heading or lead-in of the list it is an item of,
    so an item that is not a statement of its own can still be kept as "Label: item"."""

    text: str
    role: str
    position: int
    label: str | None = None


def _prose(text: str, role: str, position: int, label: str | None = None) -> Prose | None:
    text = text.strip(" ,;")[:MAX_SENTENCE_CHARS]
    work = working_text(text)
    if not enough_words(work) or is_question(text, work) or is_filler(work):
        return None
    return Prose(text, role, position, label)


def prose_kind(text: str, role: str, *, has_subject: bool = False) -> MemoryKind | None:
    """The kind of memory a kept statement is, judged on its original wording (in the speaker's
    own voice); None for the assistant's instructions to the reader and promises."""
    return memory_kind(working_text(text), role, has_subject=has_subject)


def label_item(prose: Prose) -> Clause | None:
    """ "Label: item" for a list item that is not a sentence ("- Mem0: memory layer for agents"
    under "The top competitors are:")."""
    if prose.label is None or prose.role != "assistant":
        return None
    return key_value_clause(prose.label, prose.text, prose.position, predicate="includes")


def key_value_clause(key: str, value: str, position: int, *, predicate: str | None = None) -> Clause | None:
    """ "Database: PostgreSQL" -> a fact and (Database, is, PostgreSQL); several values -> includes."""
    work = working_text(value)
    if not work or is_question(value, work) or not any(c.isalnum() for c in work):
        return None
    kind: MemoryKind = "preference" if PREFERENCE_KEY.search(key) else "fact"
    relations: list[ClauseRelation] = []
    first = work.split(" ", 1)[0].lower()
    if (predicate or first not in IMPERATIVE) and (first in ("a", "an") or is_short_list(work)):
        names = object_names(work, "is")
        default = predicate or ("includes" if len(names) > 1 else "is")
        for name, indefinite in names:
            chosen = "is_a" if default == "is" and indefinite else default
            relation = relation_between(key, chosen, name, functional=chosen == "is")
            if relation is not None:
                relations.append(relation)
    return Clause(kind, clip(f"{key}: {value.strip()}"), tuple(relations), position)


def key_name(key: str) -> str | None:
    """The key of a "Key: value" line when it reads like a name; None when the colon is inside a
    sentence ("In 2023: ...", "What we do: ...")."""
    words = key.split()
    if not 1 <= len(words) <= 5 or not any(c.isalpha() for c in key) or QUESTION_START.match(key):
        return None
    if any(w.lower() in AUX or w.lower() in PRONOUNS or w.lower() in FUNCTION_WORDS for w in words):
        return None
    if words[0].lower() in PREPOSITIONS or words[-1].lower() in PREPOSITIONS:
        return None  # "In 2023: the market grew" is a sentence, not a key
    return key.strip(" *_")


def _sentence_units(sentence: str, role: str, position: int, *, item: bool, label: str | None):
    sentence = sentence.strip()
    text = INTERJECTION.sub("", sentence).strip()
    if not text:
        return
    pair = KEY_VALUE.match(text) or (_DASH_KEY_VALUE.match(text) if item else None)
    key = key_name(pair["key"]) if pair else None
    if key is not None:
        if key.lower() not in LABEL_KEYS and not _NUMBERED_LABEL.match(key):
            clause = key_value_clause(key, pair["value"], position) if role == "assistant" else None
            if clause is not None:
                yield clause
            return  # the user's "Research: X" is a task, not a finding
        text = pair["value"]  # "Note: the API uses JWT" is the sentence after the label
    elif item and label and role == "assistant" and not enough_words(working_text(text)):
        clause = key_value_clause(label, text, position, predicate="includes")
        if clause is not None:
            yield clause
        return
    unit = _prose(text, role, position, label if item else None)
    if unit is not None:
        yield unit


def _label(text: str) -> str | None:
    label = _LABEL_FILLER.sub("", _LABEL_NUMBER.sub("", working_text(text))).strip(" *_")
    label = _LABEL_EDGES.sub("", label)
    return sentence_case(label) if label and len(label.split()) <= 6 and not is_filler(label) else None


def _speaker_units(text: str, role: str, position: int) -> Iterator[Clause | Prose]:
    heading_label = lead_label = None
    for kind, block in markdown_blocks(text):
        if kind == "heading":
            heading_label, lead_label = _label(block), None
            continue
        if kind == "row":
            work = working_text(block)
            if enough_words(work) and role == "assistant":
                yield Clause("fact", clip(block), (), position)
            continue
        sentences = split_sentences(block)
        if kind == "para":
            lead_label = None
            if sentences and sentences[-1].rstrip().endswith((":", "\uff1a")):
                lead_label = _label(sentences.pop())
        for sentence in sentences:
            label = (lead_label or heading_label) if kind == "item" else None
            yield from _sentence_units(sentence, role, position, item=kind == "item", label=label)


def _instruction_clauses(text: str, position: int) -> Iterator[Clause]:
    """A system prompt is read only for who the agent is: "You are a billing specialist." becomes
    the attribute "This agent is a billing specialist." (stored for this process only)."""
    for sentence in split_sentences(text.replace("\n", " ")):
        work = working_text(sentence)
        match = _SYSTEM_SELF.match(work)
        if match is None or not enough_words(work):
            continue
        if match["noun"]:
            lead = f"This agent's {match['noun'].lower()} is"
        elif match["verb"]:
            verb, _, rest = match["verb"].lower().partition(" ")
            lead = " ".join(filter(None, ("This agent", verb + ("es" if verb.endswith("s") else "s"), rest)))
        else:
            lead = "This agent is"
        yield Clause("attribute", clip(f"{lead} {work[match.end() :]}."), (), position)


def message_units(message: object, text: str | None = None) -> Iterator[Clause | Prose]:
    """What to read out of one message, in order; tolerant of any object with role/position/content.
    ``text``: the message's cleaned text when the caller already has it."""
    role = str(getattr(message, "role", "") or "").lower()
    position = getattr(message, "position", 0)
    position = position if isinstance(position, int) else 0
    text = clean_message(getattr(message, "content", "")) if text is None else text
    if role in SPEAKER_ROLES:
        yield from _speaker_units(text, role, position)
    elif role in INSTRUCTION_ROLES:
        yield from _instruction_clauses(text, position)
