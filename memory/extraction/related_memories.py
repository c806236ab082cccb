"""Judging a new clause against the entity's existing memories: new, update or contradiction.

The extractor is shown a few related memories; a clause whose relation has the same subject and
predicate as one of theirs but the opposite polarity, or another value of a one-at-a-time
predicate ("lives in Paris" after "lives in Berlin"), contradicts it; a more detailed object, or a
sentence that restates a memory with more words, updates it. Memories are read with the same
rules as new clauses, and only when they mention the subject at hand.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from memory.extraction.clauses import KEY_VALUE, MAX_SENTENCE_CHARS, Clause, key_name, key_value_clause
from memory.extraction.normalize import normalize_text
from memory.extraction.sentences import working_text
from memory.extraction.triples import ClauseRelation, clause_relations
from memory.extraction.types import RelatedMemory

MAX_RELATED = 200


@dataclass(frozen=True)
class _Known:
    memory_id: int
    is_attribute: bool
    content: str
    normalized: str

    @property
    def relations(self) -> tuple[ClauseRelation, ...]:
        return _read_known(self.content)


def _contains(text: str, part: str) -> bool:
    return f" {part} " in f" {text} "


_normalized = functools.lru_cache(maxsize=4096)(normalize_text)
_IMPLICIT_SUBJECTS = frozenset({"user", "team", "project"})  # "I prefer ..." never names its subject


@functools.lru_cache(maxsize=4096)
def _read_known(content: str) -> tuple[ClauseRelation, ...]:
    """An existing memory read like a user's statement; cached, as the same few memories of an
    entity are shown to the extractor again and again."""
    work = working_text(content)
    pair = KEY_VALUE.match(work)
    key = key_name(pair["key"]) if pair else None
    parsed = key_value_clause(key, pair["value"], 0) if key else None
    return parsed.relations if parsed else clause_relations(work, "user")


class RelatedIndex:
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

    def judge(self, clause: Clause, normalized: str) -> tuple[str, int | None]:
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


def _compare(new: ClauseRelation, old: ClauseRelation) -> str | None:
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
