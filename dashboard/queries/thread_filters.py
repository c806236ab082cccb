"""The thread's filters and cursors, read from the query string: bad input becomes a message, never a 500."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime

MARKERS = {
    "gap": "handoff gaps",
    "pending": "raw pending context received",
    "superseded": "superseded facts given",
    "contradiction": "contradicted items given",
}


@dataclass(frozen=True)
class Cursor:
    """A position in the thread: calls are ordered by (occurred_at, id)."""

    occurred_at: datetime
    id: int

    def __str__(self) -> str:
        # UTC with a Z: no "+" that a hand-built query string would turn into a space.
        return f"{self.occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}_{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        stamp, _, pk = (text or "").rpartition("_")
        moment = _parse_moment(stamp)
        return cls(moment, int(pk)) if moment and pk.isascii() and pk.isdigit() else None


@dataclass
class ThreadFilters:
    process: str = ""
    since: datetime | None = None
    until: datetime | None = None
    marker: str = ""
    before: Cursor | None = None
    after: Cursor | None = None
    call: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def is_latest(self) -> bool:
        """The page that follows new calls live: no cursor and no deep link."""
        return not (self.before or self.after or self.call)


def _parse_moment(text: str) -> datetime | None:
    try:
        moment = parse_datetime(text.strip().replace(" ", "T")) if text and text.strip() else None
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def thread_filters(query: QueryDict) -> ThreadFilters:
    filters = ThreadFilters(process=query.get("process", "").strip()[:200])
    for name, param in (("since", "from"), ("until", "to")):
        text = query.get(param, "")
        moment = _parse_moment(text)
        if text.strip() and moment is None:
            filters.errors.append(f"“{text[:40]}” is not a time: use YYYY-MM-DD HH:MM (UTC); the filter was left out.")
        setattr(filters, name, moment)
    if filters.since and filters.until and filters.since > filters.until:
        filters.errors.append("“From” is after “to”: no call can match; swap them.")
    marker = query.get("marker", "")
    if marker and marker not in MARKERS:
        filters.errors.append(f"Unknown marker “{marker[:40]}”: choose one of {', '.join(MARKERS)}.")
    else:
        filters.marker = marker
    for name in ("before", "after"):
        text = query.get(name, "")
        cursor = Cursor.parse(text)
        if text and cursor is None:
            filters.errors.append("That page link is damaged; showing the latest calls.")
        setattr(filters, name, cursor)
    call = query.get("call", "")
    if call and not call.isdigit():
        filters.errors.append(f"“{call[:40]}” is not a call id.")
    filters.call = int(call) if call.isdigit() else None
    return filters
