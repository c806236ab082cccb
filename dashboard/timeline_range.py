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

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from dashboard.buckets import STRIDES, floor_to_bucket, stride
from dashboard.settled_buckets import grouped_count
from memory.models import AugmentationJob, Entity, Exchange, Memory, RecallEvent

MAX_BUCKETS = 90


@dataclass(frozen=True)
class DataExtent:
    """When the entity's recorded activity starts and ends; None for both when it has none."""

    first: datetime | None
    last: datetime | None


@dataclass(frozen=True)
class TimelineRange:
    start: datetime
    end: datetime  # exclusive
    granularity: str  # a key of dashboard.buckets.STRIDES
    whole_life: bool

    @classmethod
    def fitting(cls, start: datetime, end: datetime, *, whole_life: bool = False) -> TimelineRange:
        """The range with the smallest bucket size that keeps it within MAX_BUCKETS buckets."""
        span = (end - start).total_seconds()
        granularity = next((name for name, seconds in STRIDES.items() if span / seconds <= MAX_BUCKETS), "4 weeks")
        return cls(start=start, end=end, granularity=granularity, whole_life=whole_life)

    @classmethod
    def whole_life_of(cls, extent: DataExtent, *, now: datetime | None = None) -> TimelineRange:
        """The span of the data, padded by a few percent (at least a second) on each side; the last
        hour when the entity has no data yet."""
        if extent.first is None or extent.last is None:
            now = now or timezone.now()
            return cls.fitting(now - timedelta(hours=1), now + timedelta(minutes=1), whole_life=True)
        pad = max(timedelta(seconds=1), (extent.last - extent.first) * 0.03)
        return cls.fitting(extent.first - pad, extent.last + pad, whole_life=True)

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
    done = AugmentationJob.objects.filter(entity=OuterRef("pk"), status=AugmentationJob.Status.DONE)
    row = (
        Entity.objects.filter(pk=entity.pk)
        .annotate(
            exchange_first=_edge(Exchange, "occurred_at", last=False),
            exchange_last=_edge(Exchange, "occurred_at", last=True),
            memory_first=_edge(Memory, "first_seen_at", last=False),
            memory_last=_edge(Memory, "first_seen_at", last=True),
            recall_first=_edge(RecallEvent, "created_at", last=False),
            recall_last=_edge(RecallEvent, "created_at", last=True),
            job_last=Subquery(done.order_by().values("entity").annotate(last=Max("finished_at")).values("last")),
        )
        .values(
            "exchange_first", "exchange_last", "memory_first", "memory_last", "recall_first", "recall_last", "job_last"
        )  # fmt: skip
        .get()
    )
    firsts = [row[key] for key in ("exchange_first", "memory_first", "recall_first") if row[key]]
    lasts = [row[key] for key in ("exchange_last", "memory_last", "recall_last", "job_last") if row[key]]
    return DataExtent(first=min(firsts) if firsts else None, last=max(lasts) if lasts else None)
