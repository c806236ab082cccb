"""How the ranked results become the block's lines: when each was said.

**When.** Every memory and triple line starts with the date it was first said: its first mention's
original time (an imported exchange's `occurred_at`, not the import time), as "7 May 2023" (full
month names cost the same tokens as abbreviations and match dates written either way), in UTC.
A block without dates cannot answer "when did…" (LoCoMo's temporal questions) nor place relative
words ("yesterday", "last week") a memory carries. The dates come with the cached index
(`EntityIndex.first_seen`), so they cost a warm recall nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from memory.recall import block as blocks
from memory.recall.events import HitRecord
from memory.recall.index import EntityIndex

DAY = 86400


@dataclass(frozen=True)
class Candidate:
    """A result on its way into the block: its index row and what the recall event records."""

    row: int
    hit: HitRecord


def said_on(timestamp: float) -> str:
    """The day `timestamp` (epoch seconds) falls on, in UTC: "7 May 2023"."""
    return _day_label(int(timestamp // DAY))


@lru_cache(maxsize=4096)
def _day_label(day_number: int) -> str:
    day = datetime.fromtimestamp(day_number * DAY, tz=UTC)
    return f"{day.day} {day:%B %Y}"


def block_lines(
    index: EntityIndex, candidates: Sequence[Candidate], section_of: Callable[[HitRecord], str]
) -> list[blocks.Line]:
    """One line per candidate, dated, in the section `section_of` assigns it."""
    return [
        blocks.Line(
            section=section_of(c.hit),
            text=blocks.memory_line(
                c.hit.kind, c.hit.content, c.hit.processes, said=said_on(float(index.first_seen[c.row]))
            ),
        )
        for c in candidates
    ]
