"""Relations of "Key: value" items and labelled list items, read without a parse.

"Database: PostgreSQL" gives (Database, is, PostgreSQL); "Key players: Pinecone, Weaviate and Mem0"
gives one (Key players, includes, X) per item. Values are cut at the first clause boundary and
split into list items; anything that reads like a pronoun, a quality or an alternative ("A or B")
is not a node. Sentences are read by the parser instead (relations.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memory.extraction.lexicon import (
    AUX,
    BAD_OBJECT_START,
    DETERMINERS,
    PARTICIPLES,
    PRONOUNS,
    TECHNOLOGIES,
)
from memory.extraction.node_types import node_key
from memory.extraction.predicates import negated_predicate

MAX_NODE_CHARS = 100

_OBJECT_END = re.compile(
    r"\s*(?:[;:()\[\]\"]|\s[-\u2013\u2014]\s|(?:^|(?<=\s))(?:for|because|since|so|when|while|which|that|who|whose|where"
    r"|whereas|to|with|without|in|on|at|by|from|via|through|as|if|unless|until|after|before|during|per|instead"
    r"|but|than|across|within|into|over|under|using|based|including|such)(?=\s|$))",
    re.IGNORECASE,
)
_ITEM_SPLIT = re.compile(r"\s*,(?!\d{3})\s*(?:and\s+)?|\s+and\s+|\s+&\s+")
_NAME_CHARS = re.compile(r"^[\w.+#&'/$%-]+$")
_TRAILING_PARTICIPLE = re.compile(r"\s+[a-z]+ed$")
_ALTERNATIVE = re.compile(r"\bor\b", re.IGNORECASE)


@dataclass(frozen=True)
class ClauseRelation:
    """One subject-predicate-object claim of a clause, with the normalised node keys it is
    deduplicated and compared by."""

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
        return negated_predicate(self.predicate) if self.negated else self.predicate


def relation_between(
    subject: str, predicate: str, obj: str, *, negated: bool = False, functional: bool = False
) -> ClauseRelation | None:
    """The relation, or None when a side normalises to nothing or both sides are one node."""
    object_key = node_key(obj)
    short = len(obj.split()) <= 2  # "PostgreSQL 16", "$50k": a value, not a description
    is_name = short and (any(c.isupper() or c.isdigit() for c in obj) or object_key in TECHNOLOGIES)
    subject_key = node_key(subject)
    if not subject_key or not object_key or subject_key == object_key:
        return None
    return ClauseRelation(subject, predicate, obj, negated, functional, subject_key, object_key, is_name)


def _is_value(name: str) -> bool:
    """A proper name, a number or a technology ("PostgreSQL", "$50k", "bcrypt"), not an adjective."""
    last = name.rsplit(" ", 1)[-1]
    if last.islower() and (last.endswith("ed") or last in PARTICIPLES):
        return False
    return any(c.isupper() or c.isdigit() for c in name) or node_key(name) in TECHNOLOGIES


def object_names(text: str, predicate: str) -> list[tuple[str, bool]]:
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
        while tokens and tokens[0].lower() in DETERMINERS:
            tokens = tokens[1:]
        if not tokens or len(tokens) > 5 or tokens[0].lower() in BAD_OBJECT_START:
            continue
        if any(t.lower() in PRONOUNS or t.lower() in AUX or not _NAME_CHARS.match(t) for t in tokens):
            continue
        name = " ".join(tokens)
        if predicate == "is" and not indefinite and not _is_value(name):
            continue  # "is fast", "is sent", "is AWS certified": a quality, not a thing
        if len(name) <= MAX_NODE_CHARS and any(c.isalnum() for c in name):
            names.append((name, indefinite))
    return names


def is_short_list(value: str) -> bool:
    """A few short items ("PostgreSQL, Redis and Celery"), not a sentence: names, not prose."""
    items = _ITEM_SPLIT.split(value)
    return len(items) <= 8 and all(len(item.split()) <= 5 for item in items)
