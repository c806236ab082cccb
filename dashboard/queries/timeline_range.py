"""The Entity Timeline's time range and its buckets.

By default the timeline covers the entity's whole life *where its data is*: from its first to its
last exchange, memory, recall or finished augmentation, whatever their clock (imported history
keeps the exchanges' original times, years before the import). The bucket size is then chosen so
that the range holds at most MAX_BUCKETS of them: five seconds of activity are drawn in one-second
bars, three years in weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Min, OuterRef, Subquery
from django.utils import timezone

from dashboard.queries.buckets import STRIDES, floor_to_bucket, grouped_count, stride
from memory.models import AugmentationJob, Entity, Exchange, Memory, RecallEvent

MAX_BUCKETS = 90
SERIES_NAMES = ("exchanges", "memories", "recalls", "augmentations")


@dataclass(frozen=True)
class SeriesExtent:
    name: str  # "exchanges", "memories", "recalls", "augmentations"
    first: datetime
    last: datetime


@dataclass(frozen=True)
class DataExtent:
    """When the entity's recorded activity starts and ends (None for both when it has none), and
    where each kind of activity is: imported exchanges may lie years before their recalls."""

    first: datetime | None
    last: datetime | None
    series: tuple[SeriesExtent, ...] = ()

    @property
    def apart(self) -> bool:
        """Whether some kinds of activity are far from the others (e.g. imported history): each then
        gets a link to its own range."""
        if self.first is None or len(self.series) < 2:
            return False
        whole = self.last - self.first
        return any(series.last - series.first < whole / 10 for series in self.series)


@dataclass(frozen=True)
class TimelineRange:
    start: datetime
    end: datetime  # exclusive
    granularity: str  # a key of dashboard.queries.buckets.STRIDES
    whole_life: bool

    @classmethod
    def fitting(cls, start: datetime, end: datetime, *, whole_life: bool = False) -> TimelineRange:
        """The range with the smallest bucket size that keeps it within MAX_BUCKETS buckets."""
        span = (end - start).total_seconds()
        granularity = next((name for name, seconds in STRIDES.items() if span / seconds <= MAX_BUCKETS), "4 weeks")
        return cls(start=start, end=end, granularity=granularity, whole_life=whole_life)

    @classmethod
    def around(cls, first: datetime, last: datetime, *, whole_life: bool = False) -> TimelineRange:
        """From ``first`` to ``last`` (both included), padded by 1% (at least a second) each side."""
        first, last = min(first, last), max(first, last)
        pad = max(timedelta(seconds=1), (last - first) * 0.01)
        return cls.fitting(first - pad, last + pad, whole_life=whole_life)

    @classmethod
    def whole_life_of(cls, extent: DataExtent, *, now: datetime | None = None) -> TimelineRange:
        """The span of the data; the last hour when the entity has no data yet."""
        if extent.first is None or extent.last is None:
            now = now or timezone.now()
            return cls.fitting(now - timedelta(hours=1), now + timedelta(minutes=1), whole_life=True)
        return cls.around(extent.first, extent.last, whole_life=True)

    @property
    def step(self) -> timedelta:
        return stride(self.granularity)

    def buckets(self) -> list[datetime]:
        """Every bucket start in the range, so charts show quiet stretches as zeros."""
        current, buckets = floor_to_bucket(self.start, self.granularity), []
        while current < self.end and len(buckets) <= MAX_BUCKETS + 2:
            buckets.append(current)
            current += self.step
        return buckets

    def count_by_bucket(self, queryset, field: str, *group_by: str) -> list[dict]:
        """Rows of ``queryset`` in the range counted per bucket (and ``group_by`` fields):
        [{"bucket": datetime, "n": int, **group_by}], bucket keys computed by the database."""
        return grouped_count(queryset, field, group_by, self.granularity, self.start, self.end)


def _edge(model, field: str, *, last: bool, **filters) -> Subquery:
    ordered = model.objects.filter(entity=OuterRef("pk"), **filters).order_by(f"-{field}" if last else field)
    return Subquery(ordered.values(field)[:1])


def data_extent(entity: Entity) -> DataExtent:
    """First and last moment of the entity's exchanges (original times), memories (first seen),
    recalls and finished augmentations: one query, each end read from an index but the jobs'."""
    done = AugmentationJob.objects.filter(entity=OuterRef("pk"), status=AugmentationJob.Status.DONE).order_by()
    jobs = done.values("entity")
    row = (
        Entity.objects.filter(pk=entity.pk)
        .annotate(
            exchanges_first=_edge(Exchange, "occurred_at", last=False),
            exchanges_last=_edge(Exchange, "occurred_at", last=True),
            memories_first=_edge(Memory, "first_seen_at", last=False),
            memories_last=_edge(Memory, "first_seen_at", last=True),
            recalls_first=_edge(RecallEvent, "created_at", last=False),
            recalls_last=_edge(RecallEvent, "created_at", last=True),
            augmentations_first=Subquery(jobs.annotate(at=Min("finished_at")).values("at")),
            augmentations_last=Subquery(jobs.annotate(at=Max("finished_at")).values("at")),
        )
        .values(*(f"{name}_{end}" for name in SERIES_NAMES for end in ("first", "last")))
        .get()
    )
    series = tuple(
        SeriesExtent(name, row[f"{name}_first"], row[f"{name}_last"])
        for name in SERIES_NAMES
        if row[f"{name}_first"] and row[f"{name}_last"]
    )
    if not series:
        return DataExtent(first=None, last=None)
    return DataExtent(first=min(item.first for item in series), last=max(item.last for item in series), series=series)
