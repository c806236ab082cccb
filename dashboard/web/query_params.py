"""Query parameters of the dashboard's pages: one parser per kind of value, one exception for bad input.

A parameter a page cannot use raises ``InvalidQuery`` with a message for the person who typed it;
``dashboard.web.middleware.QueryValidationMiddleware`` answers it with a 400 page. The middleware also
checks, before any view runs, every parameter whose name has a meaning across the dashboard
(``PARAMETERS``: dates, day presets, pages, limits, ids, sort orders), so a view's own loose parsing
can never turn a typo into a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

EARLIEST = date(1900, 1, 1)
LATEST = date(9998, 12, 31)  # a day later still fits in a datetime
MAX_TEXT = 1000  # characters of any one parameter value
MAX_ID = 2**63 - 1  # the largest primary key the databases store
DAY_PRESETS = (1, 7, 30, 90, 365)
CONTRADICTION_STATUSES = ("open", "all")


class InvalidQuery(ValueError):
    """A query parameter the page cannot use; ``message`` says what is wrong and what would work."""

    def __init__(self, name: str, value: str, expected: str):
        self.name, self.value, self.expected = name, value, expected
        shown = value if len(value) <= 40 else value[:40] + "…"
        super().__init__(f"{name}={shown!r}: {expected}.")

    @property
    def message(self) -> str:
        return str(self)


def _in_range(name: str, value: str, day: date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise InvalidQuery(name, value, f"give a date between {EARLIEST} and {LATEST}")


def query_date(name: str, value: str | None) -> date | None:
    """A day, YYYY-MM-DD (a date-time is read as its day); None when absent or empty."""
    moment = query_moment(name, value)
    return moment.date() if moment is not None else None


def query_moment(name: str, value: str | None) -> datetime | None:
    """A moment, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (optionally with an offset), in the current time zone
    when none is given; a bare day is its midnight. None when absent or empty."""
    value = (value or "").strip()
    if not value:
        return None
    expected = "expected a date YYYY-MM-DD or a date and time YYYY-MM-DDTHH:MM[:SS] that exists"
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidQuery(name, value, expected)
    _in_range(name, value, parsed.date())
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def query_days(name: str, value: str | None, *, allow_all: bool = False) -> int | None:
    """One of the day presets; None when absent or empty (or "all", where the page offers it)."""
    value = (value or "").strip()
    if not value or (allow_all and value == "all"):
        return None
    if value.isascii() and value.isdigit() and int(value) in DAY_PRESETS:
        return int(value)
    choices = ", ".join(map(str, DAY_PRESETS)) + (" or all" if allow_all else "")
    raise InvalidQuery(name, value, f"expected a number of days: {choices}")


def query_positive_int(name: str, value: str | None, *, maximum: int = MAX_ID) -> int | None:
    """A whole number from 1 to ``maximum``; None when absent or empty."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit() and 1 <= int(value) <= maximum:
        return int(value)
    raise InvalidQuery(name, value, f"expected a whole number from 1 to {maximum}")


def query_page(name: str, value: str | None) -> None:
    if (value or "").strip() != "last":
        query_positive_int(name, value)


def query_choice(choices: Callable[[], object]) -> Callable[[str, str | None], None]:
    """A parser admitting one of ``choices()`` (read when checked, so the owner's list stays the truth)."""

    def check(name: str, value: str | None) -> None:
        allowed = [str(choice) for choice in choices()]
        if value and value not in allowed:
            raise InvalidQuery(name, value, "expected one of " + ", ".join(allowed))

    return check


def _entity_sorts():
    from dashboard.queries.entities import ENTITY_SORTS

    return ENTITY_SORTS


# Parameters whose meaning is the same on every page that reads them.
PARAMETERS: dict[str, Callable[[str, str | None], object]] = {
    "start": query_moment,
    "end": query_moment,
    "as_of": query_moment,
    "days": lambda name, value: query_days(name, value, allow_all=True),
    "page": query_page,
    "limit": lambda name, value: query_positive_int(name, value, maximum=1000),
    "token_budget": lambda name, value: query_positive_int(name, value, maximum=100_000),
    "tenant": query_positive_int,
    "call": query_positive_int,
    "sort": query_choice(_entity_sorts),
    "status": query_choice(lambda: CONTRADICTION_STATUSES),
}


def validate_query(params) -> None:
    """Raises InvalidQuery for the first unusable parameter: a known one that does not parse, or any
    value holding a NUL character (no database stores one) or longer than MAX_TEXT characters."""
    for name, values in params.lists():
        for value in values:
            if "\x00" in value or "\x00" in name:
                raise InvalidQuery(
                    name.replace("\x00", "\\0"), value.replace("\x00", "\\0"), "NUL characters are not allowed"
                )
            if len(value) > MAX_TEXT:
                raise InvalidQuery(name, value, f"at most {MAX_TEXT} characters")
            if name in PARAMETERS:
                PARAMETERS[name](name, value)
