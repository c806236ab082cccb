"""Exceptions the SDK raises. The model's own errors are never wrapped: they reach the caller as openai raises them."""

from __future__ import annotations


class MemoriError(Exception):
    """Base class of every error raised by the Memori SDK."""


class MemoriConfigError(MemoriError):
    """The SDK is not configured well enough to start; the message says what to set."""


class InvalidAttribution(MemoriError, ValueError):
    """An entity, process or session id is unusable; the message says why."""


class MemoriUnavailable(MemoriError):
    """The memory server could not be reached or answered 5xx / too slowly."""


class MemoriApiError(MemoriError):
    """The memory server refused a request (4xx); `status`, `code` and `fields` say why."""

    def __init__(self, message: str, *, status: int, code: str = "", fields: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = fields or {}


class AugmentationTimeout(MemoriError, TimeoutError):
    """`augmentation.wait(timeout=...)` ran out of time; `pending` lists the job ids still running."""

    def __init__(self, message: str, *, pending: list[int]) -> None:
        super().__init__(message)
        self.pending = pending
