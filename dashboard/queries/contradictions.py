"""Reads behind the Contradictions page: an entity's contradictions with, per side, who said it and
its first mentions (when, in which session and call), in a fixed number of queries per page."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber

from memory.models import Contradiction, Entity, Provenance
from memory.services.contradiction_resolving import SIDES

RESOLVE_RELATED = [f"{kind}_{side}__first_process" for kind in ("memory", "triple") for side in ("a", "b")]
MENTIONS_SHOWN = 3  # per side: when and in which call it was said, earliest first


def _side_key(memory, triple) -> tuple[str, int] | None:
    if memory:
        return ("memory", memory.pk)
    return ("triple", triple.pk) if triple else None


def _side_mentions(contradictions: list[Contradiction]) -> dict[tuple[str, int], dict]:
    """Per side: the processes that said it, and its first mentions (time, process, session, call)
    with their total. At most two queries per kind of side, however often each side was said."""
    keys = {key for c in contradictions for key in _sides_keys(c) if key}
    found: dict[tuple[str, int], dict] = defaultdict(lambda: {"processes": [], "mentions": [], "total": 0})
    for target in ("memory", "triple"):
        ids = [pk for kind, pk in keys if kind == target]
        if not ids:
            continue
        said = Provenance.objects.filter(**{f"{target}_id__in": ids})
        for target_id, process in said.values_list(f"{target}_id", "process__external_id").distinct().order_by():
            found[(target, target_id)]["processes"].append(process)
        first = (
            said.annotate(
                rank=Window(RowNumber(), partition_by=[F(f"{target}_id")], order_by=[F("mentioned_at"), F("pk")]),
                total=Window(Count("*"), partition_by=[F(f"{target}_id")]),
            )
            .filter(rank__lte=MENTIONS_SHOWN)
            .values(
                f"{target}_id",
                "rank",
                "total",
                "mentioned_at",
                "session_id",
                "exchange_id",
                "source",
                process_name=F("process__external_id"),
            )  # fmt: skip
        )
        for row in first:
            side = found[(target, row[f"{target}_id"])]
            side["total"] = row["total"]
            side["mentions"].append(row)
    for side in found.values():
        side["processes"].sort()
        side["mentions"].sort(key=lambda row: row["rank"])
    return found


def _sides_keys(contradiction: Contradiction) -> list[tuple[str, int] | None]:
    return [
        _side_key(getattr(contradiction, f"memory_{label}"), getattr(contradiction, f"triple_{label}"))
        for label in SIDES
    ]


def _sides(contradiction: Contradiction, mentions: dict) -> list[dict]:
    sides = []
    for label, key in zip(SIDES, _sides_keys(contradiction), strict=True):
        said = mentions.get(key, {"processes": [], "mentions": [], "total": 0}) if key else None
        sides.append(
            {
                "label": label,
                "memory": getattr(contradiction, f"memory_{label}"),
                "triple": getattr(contradiction, f"triple_{label}"),
                "processes": said["processes"] if said else [],
                "mentions": said["mentions"] if said else [],
                "more_mentions": max(0, said["total"] - len(said["mentions"])) if said else 0,
            }
        )
    return sides


def contradictions_of(entity: Entity, *, status: str) -> QuerySet[Contradiction]:
    """The entity's contradictions, newest first; only the unresolved ones when ``status`` is "open"."""
    contradictions = Contradiction.objects.filter(entity=entity).select_related(*RESOLVE_RELATED)
    if status == "open":
        contradictions = contradictions.filter(resolved_at__isnull=True)
    return contradictions.order_by("-detected_at", "-pk")


def with_sides(rows: list[Contradiction]) -> list[Contradiction]:
    """Each row gets ``sides`` (see sides_of) and ``disagreeing`` (the processes on either side)."""
    mentions = _side_mentions(rows)
    for row in rows:
        row.sides = _sides(row, mentions)
        row.disagreeing = sorted({name for side in row.sides for name in side["processes"]})
    return rows


def sides_of(contradiction: Contradiction) -> list[dict]:
    """Per side: its label, memory or triple, the processes that said it and its first mentions."""
    return _sides(contradiction, _side_mentions([contradiction]))
