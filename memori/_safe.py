"""The one "never break the host" guard: a failure of the memory layer is logged and swallowed, so the
user's LLM call (or the delivery thread that keeps their exchanges) goes on without memory.

Like sentry-python's `capture_internal_exceptions()`: the caller sets its fallback before the block,
and the block only replaces it when it succeeds::

    context = CallContext()
    with never_break_host("recall failed ({err}); calling the model without memory"):
        context = recall()

Only `Exception` is swallowed: KeyboardInterrupt and SystemExit still stop the program.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("memori")


class OncePerInterval:
    """Lets a recurring failure warn once per interval (an outage would otherwise warn on every call)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last = -seconds
        self._lock = threading.Lock()

    def due(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.seconds:
                return False
            self._last = now
            return True


@contextmanager
def never_break_host(
    what: str,
    *,
    level: int = logging.WARNING,
    traceback: bool = False,
    throttle: OncePerInterval | None = None,
) -> Iterator[None]:
    """Log a failure inside the block as `memori: <what>` (`{err}` replaced by the error) and swallow it.

    With `throttle`, repeats within its interval are logged at debug level only; with `traceback`, the
    log carries it (for failures that are bugs, not outages).
    """
    try:
        yield
    except Exception as err:  # noqa: BLE001 - the memory layer must never break the caller
        if throttle is not None and not throttle.due():
            level = logging.DEBUG
        logger.log(level, "memori: %s", what.replace("{err}", _describe(err)), exc_info=traceback)


def _describe(err: Exception) -> str:
    try:
        return str(err)
    except Exception:  # noqa: BLE001 - an exception whose __str__ fails must not escape the guard
        return type(err).__name__
