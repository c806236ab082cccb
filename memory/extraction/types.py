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
from datetime import datetime
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
    """``occurred_at`` is when the exchange happened (its original time, not the import time): the
    reference that relative times ("yesterday", "last week") are resolved against."""

    entity_id: str
    process_id: str
    messages: tuple[ExchangeMessage, ...]
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class RelatedMemory:
    """An existing memory of the entity, shown to the extractor so it can mark updates and
    contradictions instead of creating unrelated duplicates."""

    memory_id: int
    kind: str
    content: str


@dataclass(frozen=True)
class StateClaim:
    """What a memory says is the current value of something that holds one value at a time, so that
    a later memory with another value supersedes it ("payments go through Stripe", later "we moved
    payments to Adyen"). Events ("Caroline went to Paris") make no claim: they stay true.

    ``subject``: the normalized noun phrase the state is about ("payments", "invoice date",
    "caroline"). ``attribute``: the normalized relation ("go_through", "live_in", "due_on"), or "*"
    for a change statement ("moved payments to Adyen", "the date changed to March 12"), which
    updates whatever claim about the subject has a value of the same type. ``value``: the value as
    written ("Adyen", "March 12"). ``value_type``: date, money, number, name, place or other."""

    subject: str
    attribute: str
    value: str
    value_type: str = "other"


@dataclass(frozen=True)
class ExtractedMemory:
    """A fact, preference, skill or attribute. ``source_position`` is the ``position`` of the
    message it came from. ``related_memory_id`` is set when ``relation`` is not "new". ``claim`` is
    set when the memory states a value that a later memory may supersede."""

    kind: MemoryKind
    content: str
    source_position: int
    relation: Relation = "new"
    related_memory_id: int | None = None
    claim: StateClaim | None = None


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
