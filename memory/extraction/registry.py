"""Which extractor the augmentation worker runs, chosen by ``MEMORI_EXTRACTOR``.

- ``rules`` (default): the offline rules of memory/extraction/rules.py;
- ``llm``: any OpenAI-compatible server (memory/extraction/llm.py);
- a dotted path ("package.module.Name") to a class taking no arguments, a factory returning an
  extractor, or a plain function ``(exchange, related) -> Extraction``; see types.Extractor.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable, Sequence

from memory.extraction.types import ExchangeInput, Extraction, Extractor, RelatedMemory


class ExtractorConfigError(ValueError):
    """``MEMORI_EXTRACTOR`` names nothing that can extract."""


class ExtractorUnavailable(Exception):
    """A transient failure (timeout, connection refused, HTTP 5xx, rate limit): the job is retried
    with backoff. Third-party extractors raise it for the same reason."""


class ExtractionFailed(Exception):
    """A permanent failure (e.g. the model keeps answering outside the schema): the job fails with
    this message as its error."""


_lock = threading.Lock()
_cached: tuple[str, Extractor] | None = None


def get_extractor() -> Extractor:
    """The process-wide extractor for the current ``MEMORI_EXTRACTOR`` setting (built once)."""
    global _cached
    from django.conf import settings

    choice = (getattr(settings, "MEMORI_EXTRACTOR", "") or "rules").strip()
    cached = _cached
    if cached is not None and cached[0] == choice:
        return cached[1]
    with _lock:
        if _cached is None or _cached[0] != choice:
            _cached = (choice, build_extractor(choice))
        return _cached[1]


def build_extractor(choice: str) -> Extractor:
    if choice == "rules":
        from memory.extraction.rules import RulesExtractor

        return RulesExtractor()
    if choice == "llm":
        from memory.extraction.llm import LLMExtractor

        return LLMExtractor.from_settings()
    if "." in choice:
        return _from_dotted_path(choice)
    raise ExtractorConfigError(f"MEMORI_EXTRACTOR={choice!r}: use 'rules', 'llm' or a dotted path to an extractor")


def _from_dotted_path(path: str) -> Extractor:
    module_name, _, attribute = path.rpartition(".")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ExtractorConfigError(f"MEMORI_EXTRACTOR={path!r} cannot be imported: {exc}") from exc
    if inspect.isclass(target):
        candidate = target()
    elif callable(target) and _takes_arguments(target):
        candidate = _FunctionExtractor(target, name=attribute)
    elif callable(target):
        candidate = target()  # a factory
    else:
        raise ExtractorConfigError(f"MEMORI_EXTRACTOR={path!r} is not a class, factory or function")
    if not callable(candidate):
        raise ExtractorConfigError(f"MEMORI_EXTRACTOR={path!r} did not give a callable extractor")
    if not getattr(candidate, "name", ""):
        candidate = _FunctionExtractor(candidate, name=attribute)
    return candidate


def _takes_arguments(function: Callable) -> bool:
    try:
        return len(inspect.signature(function).parameters) >= 2
    except (TypeError, ValueError):
        return False


class _FunctionExtractor:
    """Adapts a plain function (or a callable without ``name``) to the Extractor protocol."""

    def __init__(self, function: Callable[[ExchangeInput, Sequence[RelatedMemory]], Extraction], *, name: str):
        self.function = function
        self.name = name[:100]

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
        return self.function(exchange, related)


def reset_extractor() -> None:
    """Forget the cached extractor (tests that change the setting)."""
    global _cached
    with _lock:
        _cached = None
