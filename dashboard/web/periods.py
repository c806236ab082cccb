"""The date range a page looks at, read from the query string (?days=7 or ?start=...&end=...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from dashboard.web.query_params import DAY_PRESETS, InvalidQuery, query_date, query_days

PRESET_DAYS = DAY_PRESETS
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    days: int | None  # the preset chosen, None for a custom range

    @property
    def granularity(self) -> str:
        """Bucket size: minutes for a few hours (a fresh demo), hours up to two days, else days."""
        span = self.end - self.start
        return "minute" if span <= timedelta(hours=3) else "hour" if span <= timedelta(days=2) else "day"

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def buckets(self) -> list[datetime]:
        """Every hour (or day) bucket start in the period, so charts show quiet stretches as zeros."""
        step = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}[self.granularity]
        floor = {"second": 0, "microsecond": 0}
        if self.granularity != "minute":
            floor["minute"] = 0
        if self.granularity == "day":
            floor["hour"] = 0
        current = self.start.astimezone(UTC).replace(**floor)
        buckets = []
        while current < self.end and len(buckets) < 2000:
            buckets.append(current)
            current += step
        return buckets

    def as_query(self) -> str:
        if self.days:
            return f"days={self.days}"
        return f"start={self.start.date().isoformat()}&end={self.last_day.isoformat()}"


def period_from_query(params, *, now: datetime | None = None) -> Period:
    """Whole days from ?start=YYYY-MM-DD&end=YYYY-MM-DD, else one of the ?days= presets (default 7).
    A start alone runs to today, unless a preset is chosen (the pages' forms send their start back
    with the preset). Raises InvalidQuery for a date that does not exist, an end before its start,
    an end without a start, or an unknown preset."""
    now = now or timezone.now()
    start, end = query_date("start", params.get("start")), query_date("end", params.get("end"))
    preset = str(params.get("days") or "").strip() not in ("", "all")
    if start and (end or not preset):
        end = end or timezone.localdate(now)
        if end < start:
            raise InvalidQuery("end", params.get("end"), f"the end must not be before the start ({start})")
        tz = timezone.get_current_timezone()
        return Period(
            start=datetime.combine(start, time.min, tzinfo=tz),
            end=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
            days=None,
        )
    if end and not preset:
        raise InvalidQuery("end", params.get("end"), "give a start date too")
    days = query_days("days", str(params.get("days") or DEFAULT_DAYS))
    return Period(start=now - timedelta(days=days), end=now + timedelta(minutes=1), days=days)
