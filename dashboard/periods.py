"""The date range a page looks at, read from the query string (?days=7 or ?start=...&end=...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

PRESET_DAYS = (1, 7, 30, 90, 365)
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    days: int | None  # the preset chosen, None for a custom range

    @property
    def by_hour(self) -> bool:
        return self.end - self.start <= timedelta(days=2)

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def buckets(self) -> list[datetime]:
        """Every hour (or day) bucket start in the period, so charts show quiet stretches as zeros."""
        step = timedelta(hours=1) if self.by_hour else timedelta(days=1)
        floor = {"minute": 0, "second": 0, "microsecond": 0} if self.by_hour else {
            "hour": 0, "minute": 0, "second": 0, "microsecond": 0}  # fmt: skip
        current = timezone.localtime(self.start).replace(**floor)
        buckets = []
        while current < self.end and len(buckets) < 2000:
            buckets.append(current)
            current += step
        return buckets

    def as_query(self) -> str:
        if self.days:
            return f"days={self.days}"
        return f"start={self.start.date().isoformat()}&end={self.last_day.isoformat()}"


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def period_from_query(params, *, now: datetime | None = None) -> Period:
    now = now or timezone.now()
    start, end = _parse_date(params.get("start")), _parse_date(params.get("end"))
    if start and end and start <= end:
        tz = timezone.get_current_timezone()
        return Period(
            start=datetime.combine(start, time.min, tzinfo=tz),
            end=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
            days=None,
        )
    try:
        days = int(params.get("days", DEFAULT_DAYS))
    except (TypeError, ValueError):
        days = DEFAULT_DAYS
    days = days if days in PRESET_DAYS else DEFAULT_DAYS
    return Period(start=now - timedelta(days=days), end=now + timedelta(minutes=1), days=days)
