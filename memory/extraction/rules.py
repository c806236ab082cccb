"""The offline extractor: deterministic rules, no model, the default when no LLM is configured.

It reads the user's and the assistant's messages (system prompts only for the agent's own role),
splits them into sentences and list items, keeps what is worth remembering (declarative
statements, the user's task statements, "Key: value" items) and drops questions, greetings, filler
and code. Each kept clause is classified by voice and wording into a fact, preference, skill or
attribute; simple subject-verb-object clauses also become triples; a clause that disagrees with or
refines an existing memory of the entity is marked as a contradiction or an update.

It never raises (a worker must not die on one odd message) and its output is capped per exchange.

This module only orchestrates; each job lives in a sibling module, in reading order:
sentences.py (clean a message, cut it into blocks and sentences), classify.py (keep or drop a
clause, and which kind of memory it is), lexicon.py (the word lists), predicates.py and triples.py
(subject-verb-object relations), clauses.py (one message in, the clauses worth remembering out),
related_memories.py (new, update or contradiction) and node_types.py (how a graph node is typed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from memory.extraction.clauses import INSTRUCTION_ROLES, MAX_SENTENCE_CHARS, SPEAKER_ROLES, message_clauses
from memory.extraction.node_types import node_type
from memory.extraction.normalize import normalize_text
from memory.extraction.related_memories import MAX_RELATED, RelatedIndex
from memory.extraction.sentences import MAX_CONTENT_CHARS, MAX_MESSAGE_CHARS, MIN_WORDS
from memory.extraction.triples import MAX_NODE_CHARS
from memory.extraction.types import ExchangeInput, ExtractedMemory, ExtractedTriple, Extraction, RelatedMemory

__all__ = [  # the names this module had before it was split stay importable from here
    "INSTRUCTION_ROLES",
    "MAX_CONTENT_CHARS",
    "MAX_MEMORIES",
    "MAX_MESSAGE_CHARS",
    "MAX_NODE_CHARS",
    "MAX_RELATED",
    "MAX_SENTENCE_CHARS",
    "MAX_TRIPLES",
    "MIN_WORDS",
    "SPEAKER_ROLES",
    "RulesExtractor",
    "extract",
]

logger = logging.getLogger(__name__)

MAX_MEMORIES = 50
MAX_TRIPLES = 50


def _extract(exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
    index = RelatedIndex(related)
    memories: list[ExtractedMemory] = []
    triples: list[ExtractedTriple] = []
    seen_contents: set[str] = set()
    seen_triples: set[tuple[str, str, str]] = set()
    for message in exchange.messages or ():
        for clause in message_clauses(message):
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
                    subject_type = node_type(rel.subject, rel.predicate, is_object=False)
                    object_type = node_type(rel.object, rel.predicate, is_object=True)
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
    batch_size = 64  # a millisecond a job: the worker claims and stores jobs in batches

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory] = ()) -> Extraction:
        return extract(exchange, related)
