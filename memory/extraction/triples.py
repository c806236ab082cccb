"""Subject-predicate-object relations read from one clause.

"Our API uses JWT tokens" gives (Our API, uses, JWT tokens); "We don't use MySQL" gives (team,
does_not_use, MySQL); the user's task statements ("Implement login with OAuth", "Use Redis for
caching") give what the project uses. Subjects are short names, objects are cut at the first
clause boundary and split into list items; anything that reads like a pronoun, a quality or an
alternative ("A or B") is not a relation. The same reading is applied to existing memories when
judging updates and contradictions, so both sides are compared in one vocabulary.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from memory.extraction.lexicon import (
    AUX,
    BAD_OBJECT_START,
    DETERMINERS,
    FUNCTION_WORDS,
    PARTICIPLES,
    PEOPLE,
    PRONOUNS,
    TECHNOLOGIES,
)
from memory.extraction.node_types import node_key
from memory.extraction.predicates import VERB_CLAUSE, VERB_CLAUSE_STARTS, VERBS, negated_predicate

MAX_NODE_CHARS = 100

_TASK_WITH = re.compile(
    r"^(?:implement|build|create|develop|add|set up|write|make) (?P<x>.+?) (?:with|using) (?P<y>.+)$", re.IGNORECASE
)
_TASK_USE = re.compile(r"^use (?P<y>.+)$", re.IGNORECASE)
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


def _subject_name(tokens: list[str], role: str) -> str | None:
    if len(tokens) == 1:
        word = tokens[0].lower()
        if word == "i" and role == "user":
            return "user"
        if word == "we" and role == "user":
            return "team"
        if word == "you" and role == "assistant":
            return "user"
    while tokens and tokens[0].lower() in DETERMINERS:
        tokens = tokens[1:]
    if not 1 <= len(tokens) <= 5 or tokens[0].lower() in PRONOUNS:
        return None
    for token in tokens:
        lowered = token.lower()
        if lowered in AUX or lowered in FUNCTION_WORDS or lowered in PRONOUNS or not _NAME_CHARS.match(token):
            return None
    name = " ".join(tokens)
    return name if len(name) <= MAX_NODE_CHARS else None


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


def _svo_relations(work: str, role: str) -> list[ClauseRelation]:
    """Subject (at most five words) + known verb + object items: "Our API uses JWT tokens"."""
    tokens = work[:200].split(" ")
    starts = list(itertools.accumulate(len(token) + 1 for token in tokens[:5]))
    for k, offset in enumerate(starts, start=1):
        if k >= len(tokens) or tokens[k].lower() not in VERB_CLAUSE_STARTS:
            continue
        match = VERB_CLAUSE.match(work, offset)
        if match is None:
            continue
        subject = _subject_name(tokens[:k], role)
        if subject is None:
            continue
        index = next(i for i in range(len(VERBS)) if match.group(f"v{i}") is not None)
        verb = VERBS[index]
        if verb.personal and not match.group(f"v{index}").lower().endswith("s") and subject.lower() not in PEOPLE:
            continue
        negated = bool(match["neg1"] or match["neg2"])
        found = []
        for name, indefinite in object_names(match["obj"], verb.predicate):
            predicate = "is_a" if verb.predicate == "is" and indefinite else verb.predicate
            functional = verb.functional and predicate != "is_a"
            relation = relation_between(subject, predicate, name, negated=negated, functional=functional)
            if relation is not None:
                found.append(relation)
        return found
    return []


def clause_relations(work: str, role: str) -> tuple[ClauseRelation, ...]:
    """The relations of a clause in working form (see sentences.working_text)."""
    if role == "user":  # the user's task statements: "Implement X with Y", "Use Y for Z"
        task = _TASK_WITH.match(work)
        if task is not None:
            subject = _subject_name(task["x"].split(), role)
            names = object_names(task["y"], "uses") if subject else []
            return tuple(r for name, _ in names if (r := relation_between(subject, "uses", name)) is not None)
        task = _TASK_USE.match(work)
        if task is not None:
            names = object_names(task["y"], "uses")
            return tuple(r for name, _ in names if (r := relation_between("project", "uses", name)) is not None)
    return tuple(_svo_relations(work, role))


def is_short_list(value: str) -> bool:
    """A few short items ("PostgreSQL, Redis and Celery"), not a sentence: names, not prose."""
    items = _ITEM_SPLIT.split(value)
    return len(items) <= 8 and all(len(item.split()) <= 5 for item in items)
