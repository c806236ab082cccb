"""Relative times resolved against when they were said: "yesterday" in a message of 8 May 2023 is
7 May 2023. The expression is kept as written and its resolution follows in brackets
("went to a support group yesterday (7 May 2023)"), so a memory still says when once it is read
out of its conversation, in the form a reader (or a date search) expects.

Only expressions whose meaning is fixed by the reference time are resolved: a day (yesterday,
today, tomorrow, last night, last Friday), a week, weekend, month, season or year relative to now
(last week, this month, next year, last summer), and "N days/weeks/months/years ago".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = "January February March April May June July August September October November December".split()
SEASONS = {"spring": (3, 5), "summer": (6, 8), "fall": (9, 11), "autumn": (9, 11), "winter": (12, 2)}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a few": 3, "couple of": 2, "few": 3,
}  # fmt: skip
_COUNT = r"(?P<count>\d{1,2}|a couple of|a few|couple of|few|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
_EXPRESSION = re.compile(
    r"\b(?:(?P<day>yesterday|today|tonight|tomorrow|last night|this (?:morning|afternoon|evening))"
    r"|(?P<rel>last|this|next|past) (?P<unit>week|weekend|month|year|" + "|".join((*WEEKDAYS, *SEASONS)) + ")"
    r"|" + _COUNT + r" (?P<ago_unit>day|week|month|year)s? ago)\b",
    re.IGNORECASE,
)


def day_text(day: date) -> str:
    """The compact form used everywhere in memories: 7 May 2023."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def month_text(year: int, month: int) -> str:
    return f"{MONTHS[month - 1]} {year}"


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def _season(name: str, today: date, rel: str) -> str:
    """The season's instance (by the year it starts in): the one under way or nearest ("this"),
    the last one over ("last"), the next one to start ("next")."""
    first, last_month = SEASONS[name]
    month = today.month
    if first == 12:  # winter runs December to February
        under_way = today.year if month == 12 else today.year - 1 if month <= 2 else None
        over = today.year - 1 if month >= 3 and month != 12 else today.year - 2 if month <= 2 else today.year - 1
        upcoming = today.year if month != 12 else today.year + 1
    else:
        under_way = today.year if first <= month <= last_month else None
        over = today.year if month > last_month else today.year - 1
        upcoming = today.year if month < first else today.year + 1
    year = {"last": over, "past": over, "next": upcoming}.get(rel, under_way if under_way is not None else upcoming)
    return f"winter {year}-{str(year + 1)[-2:]}" if first == 12 else f"{name} {year}"


def _resolve(match: re.Match, today: date) -> str | None:
    if match["day"]:
        word = match["day"].lower()
        offset = {"yesterday": -1, "last night": -1, "tomorrow": 1}.get(word, 0)
        return day_text(today + timedelta(days=offset))
    if match["ago_unit"]:
        count = _NUMBER_WORDS.get(match["count"].lower()) or int(match["count"])
        unit = match["ago_unit"].lower()
        if unit == "day":
            return day_text(today - timedelta(days=count))
        if unit == "week":
            return f"the week of {day_text(today - timedelta(weeks=count))}"
        if unit == "month":
            return month_text(*_shift_month(today.year, today.month, -count))
        return str(today.year - count)
    rel, unit = match["rel"].lower(), match["unit"].lower()
    step = {"last": -1, "past": -1, "this": 0, "next": 1}[rel]
    if unit in WEEKDAYS:
        if rel == "this":
            return None  # "this Friday" may be either side of today
        delta = (today.weekday() - WEEKDAYS.index(unit)) % 7 or 7
        return day_text(today - timedelta(days=delta) if step < 0 else today + timedelta(days=(7 - delta) or 7))
    if unit in ("week", "weekend"):
        if step == 0:
            return f"the {unit} of {day_text(today)}"
        return f"the {unit} {'before' if step < 0 else 'after'} {day_text(today)}"
    if unit == "month":
        return month_text(*_shift_month(today.year, today.month, step))
    if unit == "year":
        return str(today.year + step)
    return _season(unit, today, rel)


def resolve_relative_dates(text: str, said_at: datetime | date | None) -> str:
    """``text`` with each relative time followed by its resolution in brackets; unchanged without
    a reference time or when the resolution is already written next to it."""
    if said_at is None or not text:
        return text
    today = said_at.date() if isinstance(said_at, datetime) else said_at
    pieces: list[str] = []
    last = 0
    for match in _EXPRESSION.finditer(text):
        resolved = _resolve(match, today)
        if resolved is None or resolved.lower() in text.lower():
            continue
        pieces.append(text[last : match.end()])
        pieces.append(f" ({resolved})")
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)
