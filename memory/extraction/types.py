"""The contract every extractor shares: the rules extractor, the LLM extractor and plug-ins.

An extractor reads one recorded exchange (the new messages of an LLM call and the reply) plus a
few existing memories of the entity, and returns memory records and knowledge-graph triples. It
only classifies: where a record is stored (shared per entity, or per process for attributes) is
the storing service's decision. Everything here is plain, frozen data so extractors stay pure and
their output can be compared, cached and passed between processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

MemoryKind = Literal["fact", "preference", "skill", "attribute"]
Relation = Literal["new", "update", "contradiction"]

MEMORY_KINDS: tuple[MemoryKind, ...] = ("fact", "preference", "skill", "attribute")
RELATIONS: tuple[Relation, ...] = ("new", "update", "contradiction")


@dataclass(frozen=True)
class ExchangeMessage:
    """One message of the exchange; ``position`` is its order in the conversation (provenance)."""

    position: int
    role: str  # system, developer, user, assistant or tool
    content: str


@dataclass(frozen=True)
class ExchangeInput:
    entity_id: str
    process_id: str
    messages: tuple[ExchangeMessage, ...]


@dataclass(frozen=True)
class RelatedMemory:
    """An existing memory of the entity, shown to the extractor so it can mark updates and
    contradictions instead of creating unrelated duplicates."""

    memory_id: int
    kind: str
    content: str


@dataclass(frozen=True)
class ExtractedMemory:
    """A fact, preference, skill or attribute. ``source_position`` is the ``position`` of the
    message it came from. ``related_memory_id`` is set when ``relation`` is not "new"."""

    kind: MemoryKind
    content: str
    source_position: int
    relation: Relation = "new"
    related_memory_id: int | None = None


@dataclass(frozen=True)
class ExtractedTriple:
    """A subject-predicate-object edge of the entity's knowledge graph. The predicate is a lower
    snake_case verb phrase ("uses", "located_in", "does_not_want"); node types are coarse labels
    (technology, organisation, person, place, concept)."""

    subject: str
    subject_type: str
    predicate: str
    object: str
    object_type: str
    source_position: int


@dataclass(frozen=True)
class Extraction:
    memories: tuple[ExtractedMemory, ...] = ()
    triples: tuple[ExtractedTriple, ...] = ()


@runtime_checkable
class Extractor(Protocol):
    """What the augmentation worker calls. ``name`` is recorded with each job ("rules", "llm")."""

    name: str

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction: ...
