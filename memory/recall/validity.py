"""Supersession in recall: which memories a later one replaced, kept current in the cached index.

A memory stating a new value of a claim ("we moved payments to Adyen") supersedes the older one
(memory/services/supersession.py sets its `valid_to` and `superseded_by`). The index loads both
with every row. An incremental refresh (index.py) only appends new rows, so the validity of rows
it already holds is checked with one query by primary and foreign key: the rows it knows as
superseded (an operator may have restored one, or one was said again and is current again), and
the rows superseded by a new memory with a claim or by one of those (a superseded memory said
again supersedes what replaced it). Nothing is read when the entity has no superseded memory and
no new claim, and a warm recall reads nothing.

Ranking (ranking.py, `current_first`) keeps each superseded result below the memory that is current for its
claim, bringing that memory in if it was not a result: a fact restated six times never outranks
its update. The block marks both (compose.py).

An episode (an exchange as it was said) says what the memories first extracted from it say, stale
values included ("Payments go through Stripe"). So it is superseded with them: its `valid_to` and
`superseded_by` are those of the latest superseded memory of its exchange (its co-mention group),
derived after every build and refresh (`episode_validity`), so it ranks, sits and is marked as that
memory would be.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from django.db.models import Q

from memory.models import Memory

if TYPE_CHECKING:
    from memory.recall.index import EntityIndex

MAX_CHAIN = 20  # replacements followed to find the current memory (a longer chain is cut)
_ID_CHUNK = 500


def epoch(moment) -> float:
    return moment.timestamp() if moment is not None else math.nan


def current_row(index: EntityIndex, row: int, allowed: np.ndarray) -> int | None:
    """The memory current for `row`'s claim, following replacements; None when `row` is current,
    or when the chain leads out of what the caller may see."""
    current = row
    for _ in range(MAX_CHAIN):
        following = int(index.replacements[current])
        if following < 0:
            break
        current = following
    if current == row or not allowed[current] or index.is_superseded[current]:
        return None
    return current


def validity_changes(index: EntityIndex, new_claim_ids: Sequence[int]) -> dict[str, np.ndarray] | None:
    """New `valid_to` and `superseded_by` arrays when the stored validity of rows the index holds
    differs from theirs (see the module docstring); None when nothing changed or nothing could."""
    known = index.ids[index.is_superseded & index.is_memory].tolist()  # episodes derive theirs
    if not known and not new_claim_ids:
        return None
    stored = _stored_validity(known, [*new_claim_ids, *known])
    if not stored:
        return None
    rows = index.memory_rows_of(np.asarray([row[0] for row in stored], dtype=np.int64))
    valid_to, superseded_by = index.valid_to.copy(), index.superseded_by.copy()
    changed = False
    for row, (_, until, by) in zip(rows.tolist(), stored, strict=True):
        if row < 0:
            continue
        until, by = epoch(until), by or 0
        same_time = (math.isnan(until) and math.isnan(valid_to[row])) or until == valid_to[row]
        if not same_time or superseded_by[row] != by:
            valid_to[row], superseded_by[row], changed = until, by, True
    return {"valid_to": valid_to, "superseded_by": superseded_by} if changed else None


def episode_validity(index: EntityIndex) -> dict[str, np.ndarray] | None:
    """New `valid_to` and `superseded_by` arrays where an episode's differ from those of the latest
    superseded memory first extracted from its exchange (none: current); None when none differ."""
    episodes = np.flatnonzero(index.is_episode)
    if not episodes.size:
        return None
    stale: dict[int, tuple[float, int]] = {}  # exchange -> (valid_to, superseded_by) of its latest superseded memory
    for row in np.flatnonzero(index.is_memory & ~np.isnan(index.valid_to) & (index.comention_groups != 0)).tolist():
        group, until = int(index.comention_groups[row]), float(index.valid_to[row])
        if group not in stale or until > stale[group][0]:
            stale[group] = (until, int(index.superseded_by[row]))
    valid_to = np.full(episodes.size, math.nan)
    superseded_by = np.zeros(episodes.size, dtype=np.int64)
    for i, group in enumerate(index.comention_groups[episodes].tolist()):
        if group in stale:
            valid_to[i], superseded_by[i] = stale[group]
    same = np.array_equal(valid_to, index.valid_to[episodes], equal_nan=True)
    if same and np.array_equal(superseded_by, index.superseded_by[episodes]):
        return None
    new_valid_to, new_superseded_by = index.valid_to.copy(), index.superseded_by.copy()
    new_valid_to[episodes], new_superseded_by[episodes] = valid_to, superseded_by
    return {"valid_to": new_valid_to, "superseded_by": new_superseded_by}


def _stored_validity(known: list[int], superseding: list[int]) -> list[tuple]:
    """(id, valid_to, superseded_by_id) of the `known` memories and of those `superseding` ones
    superseded: by primary key and by the superseded_by foreign key's index, in chunks within
    every database's parameter limit."""
    rows: list[tuple] = []
    columns = ("id", "valid_to", "superseded_by_id")
    for start in range(0, max(len(known), len(superseding)), _ID_CHUNK):
        chunk, by = known[start : start + _ID_CHUNK], superseding[start : start + _ID_CHUNK]
        where = Q(id__in=chunk) | Q(superseded_by_id__in=by)
        rows += Memory.objects.filter(where).order_by().values_list(*columns)
    return rows
