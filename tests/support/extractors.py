"""Test-only extractors, plugged in by dotted path (``MEMORI_EXTRACTOR``), as a third party would.

``LineExtractor`` reads explicit lines so a test says exactly what is extracted:
    fact: Our API uses JWT tokens
    attribute: Handles data analysis
    triple: project | uses | PostgreSQL
    contradiction 42: The deadline is Monday      (marks existing memory 42)
    update 42: The deadline moved to Monday
    claim: payments | go_through | Stripe | name   (the state claim of the memory on the line above)
Any other line is ignored. ``VerbatimExtractor`` keeps every sentence as written.
``SlowLineExtractor`` sleeps ``MEMORI_TEST_EXTRACTOR_SLEEP`` seconds first
(a job to kill a worker in the middle of). ``related_seen`` keeps what the last call was shown.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence

from memory.extraction.types import (
    ExchangeInput,
    ExtractedMemory,
    ExtractedTriple,
    Extraction,
    RelatedMemory,
    StateClaim,
)

KINDS = ("fact", "preference", "skill", "attribute")


class LineExtractor:
    name = "test-lines"
    related_seen: tuple[RelatedMemory, ...] = ()

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
        LineExtractor.related_seen = tuple(related)
        memories, triples = [], []
        for message in exchange.messages:
            for line in message.content.splitlines():
                head, _, body = line.partition(":")
                head, body = head.strip(), body.strip()
                words = head.split()
                if head in KINDS and body:
                    memories.append(ExtractedMemory(kind=head, content=body, source_position=message.position))
                elif len(words) == 2 and words[0] in ("contradiction", "update") and words[1].isdigit():
                    memories.append(
                        ExtractedMemory(
                            kind="fact",
                            content=body,
                            source_position=message.position,
                            relation=words[0],
                            related_memory_id=int(words[1]),
                        )
                    )
                elif head == "claim" and body.count("|") == 3 and memories:
                    subject, attribute, value, value_type = (part.strip() for part in body.split("|"))
                    claim = StateClaim(subject=subject, attribute=attribute, value=value, value_type=value_type)
                    memories[-1] = dataclasses.replace(memories[-1], claim=claim)
                elif head == "triple" and body.count("|") == 2:
                    subject, predicate, obj = (part.strip() for part in body.split("|"))
                    triples.append(
                        ExtractedTriple(
                            subject=subject,
                            subject_type="concept",
                            predicate=predicate,
                            object=obj,
                            object_type="concept",
                            source_position=message.position,
                        )
                    )
        return Extraction(memories=tuple(memories), triples=tuple(triples))


class SlowLineExtractor(LineExtractor):
    name = "test-slow-lines"

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
        time.sleep(float(os.environ.get("MEMORI_TEST_EXTRACTOR_SLEEP", "30")))
        return super().__call__(exchange, related)


def failing_extractor(exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
    """A plain function extractor that always breaks (a bug in a plug-in fails the job)."""
    raise RuntimeError("plug-in exploded on purpose")


def unavailable_extractor(exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
    """A plug-in whose backend is down: a transient error, retried with backoff."""
    from memory.extraction.registry import ExtractorUnavailable

    raise ExtractorUnavailable("extraction backend unreachable")


class VerbatimExtractor:
    """An extractor as naive as this project's first: every sentence of every message, as written,
    is a fact (a stand-in for "an older extractor" when re-extracting)."""

    name = "verbatim"

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory] = ()) -> Extraction:
        import re

        memories = [
            ExtractedMemory("fact", sentence.strip(), message.position)
            for message in exchange.messages
            for sentence in re.split(r"(?<=[.!?])\s+", message.content)
            if sentence.strip()
        ]
        return Extraction(memories=tuple(memories))
