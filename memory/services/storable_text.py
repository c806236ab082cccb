"""What text the database can store: the one check every text the API or the SDK's direct mode
writes goes through (ids, message content, names, memory text, JSON keys and values)."""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None. PostgreSQL refuses NUL characters in text and
    JSON, and a lone UTF-16 surrogate (JSON's "\\udfff" without its pair) is not Unicode at all:
    neither SQLite nor PostgreSQL can encode it (it used to fail the insert with a 500)."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters."
    return (
        f"must not contain a lone UTF-16 surrogate (\\u{ord(found.group()):04x} at character {found.start()}); "
        "send valid Unicode text."
    )


def json_text_problem(value: object) -> str | None:
    """`text_problem` of the first string of a JSON document (keys included) that has one."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem.replace("must not contain", "must not contain (in keys or values)", 1)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
