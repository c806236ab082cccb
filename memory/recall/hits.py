"""One recalled hit, from the ranked index row to the API's answer and the recall event.

Ranking yields `Ranked` rows (index positions and scores); `recalled_items` turns them into
`RecalledItem`s with their contributing processes and why they joined (`via`). The same item is
rendered into the block (compose.py), stored with the recall event (events.py) and returned to
the caller (`RecallResult.items`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.db.models import Q

from memory.models import Provenance
from memory.recall.handoff import VIA_PREFIX
from memory.recall.index import KINDS, TRIPLE, EntityIndex, memory_mask
from memory.recall.ranking import Ranked


@dataclass
class RecalledItem:
    kind: str  # fact, preference, skill, attribute, triple or episode
    content: str
    score: float  # fused: dense and lexical relevance plus priors (a co-mentioned row: a share of its anchor's)
    dense_score: float
    lexical_score: float
    memory_id: int | None
    triple_id: int | None
    processes: list[str]
    via: str | None = None  # why it joined without matching: "co-mentioned with memory 12", "handoff from coder"
    episode_id: int | None = None
    row: int = field(default=-1, repr=False, compare=False)  # its row in the entity's index (server side only)

    @property
    def is_handoff(self) -> bool:
        return bool(self.via and self.via.startswith(VIA_PREFIX))


def recalled_items(index: EntityIndex, ranked: list[Ranked]) -> list[RecalledItem]:
    """Ranked rows with their contributing processes (one query for all of them; an episode's is
    its exchange's process, which the index holds)."""
    rows = np.asarray([r.row for r in ranked], dtype=np.int64)
    kinds = index.kinds[rows]
    memory_ids = index.ids[rows][memory_mask(kinds)].tolist()
    triple_ids = index.ids[rows][kinds == TRIPLE].tolist()
    names: dict[tuple[str, int], set[str]] = {}
    if memory_ids or triple_ids:
        mentions = (
            Provenance.objects.filter(Q(memory_id__in=memory_ids) | Q(triple_id__in=triple_ids))
            .order_by()
            .values_list("memory_id", "triple_id", "process__external_id")
            .distinct()
        )
        for memory_id, triple_id, process_name in mentions:
            target = ("memory", memory_id) if memory_id else ("triple", triple_id)
            names.setdefault(target, set()).add(process_name)
    items = []
    for r in ranked:
        kind = KINDS[index.kinds[r.row]]
        db_id = int(index.ids[r.row])
        target = (kind, db_id) if kind in ("triple", "episode") else ("memory", db_id)
        first = index.first_process_names[r.row]
        found = names.get(target, set())
        items.append(
            RecalledItem(
                kind=kind,
                content=index.contents[r.row],
                score=round(r.fused, 6),
                dense_score=round(r.dense, 6),
                lexical_score=round(r.lexical, 6),
                memory_id=db_id if target[0] == "memory" else None,
                triple_id=db_id if kind == "triple" else None,
                processes=([first] if first else []) + sorted(found - {first}),
                via=_via(index, r),
                episode_id=db_id if kind == "episode" else None,
                row=r.row,
            )
        )
    return items


def _via(index: EntityIndex, r: Ranked) -> str | None:
    """Why a row joined without ranking on its own: a handoff, the current version of a superseded
    result, or a co-mention."""
    if r.handoff_from is not None:
        return VIA_PREFIX + r.handoff_from
    if r.current_of is not None:
        stale = "episode" if index.is_episode[r.current_of] else "memory"
        return f"current version of {stale} {int(index.ids[r.current_of])}"
    if r.via is None:
        return None
    kind = "triple" if index.kinds[r.via] == TRIPLE else "memory"
    return f"co-mentioned with {kind} {int(index.ids[r.via])}"
