"""The SDK's configuration, read once when a `Memori` object is created (never at import time).

Constructor arguments win over the environment; the environment wins over the defaults. A value that
cannot be used fails at once with a `MemoriConfigError` naming the variable, rather than at the first
call or on the delivery thread.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from memori.errors import MemoriConfigError

DEFAULT_API_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class MemoriConfig:
    """Everything a `Memori` object and its parts are configured with.

    `api_key` empty and `django_settings_module` set means direct mode (see memori/direct.py) when
    `tenant` names the tenant to write to.
    """

    api_url: str = DEFAULT_API_URL
    api_key: str = field(default="", repr=False)  # a secret: kept out of logs and tracebacks
    tenant: str = ""
    django_settings_module: str = ""
    recall_timeout: float = 2.0  # seconds a wrapped call waits for recall (and for catching up) before going on
    recall_limit: int | None = None
    spool_dir: Path = field(default_factory=lambda: _spool_dir(os.environ))
    record_timeout: float = 10.0  # seconds one delivery of an exchange may take
    exit_flush_seconds: float = 10.0  # seconds the exit hook keeps delivering before spooling the rest
    conflict_retry_seconds: float = 300.0  # how long a spooled exchange answered 409 is retried

    @property
    def direct_mode_available(self) -> bool:
        """Inside the Django project (its settings module named), the SDK may use its database directly."""
        return bool(self.django_settings_module)

    @classmethod
    def from_environment(
        cls,
        *,
        api_url: str | None = None,
        api_key: str | None = None,
        recall_timeout: float | None = None,
        recall_limit: int | None = None,
        spool_dir: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> MemoriConfig:
        env = os.environ if environ is None else environ
        return cls(
            api_url=(api_url or env.get("MEMORI_API_URL") or DEFAULT_API_URL).rstrip("/"),
            api_key=(api_key or env.get("MEMORI_API_KEY") or "").strip(),
            tenant=env.get("MEMORI_TENANT", "").strip(),
            django_settings_module=env.get("DJANGO_SETTINGS_MODULE", "").strip(),
            recall_timeout=recall_timeout
            if recall_timeout is not None
            else _seconds(env, "MEMORI_RECALL_TIMEOUT", 2.0),
            recall_limit=recall_limit,
            spool_dir=Path(spool_dir) if spool_dir else _spool_dir(env),
            record_timeout=_seconds(env, "MEMORI_RECORD_TIMEOUT", 10.0),
            exit_flush_seconds=_seconds(env, "MEMORI_EXIT_FLUSH_SECONDS", 10.0),
            conflict_retry_seconds=_seconds(env, "MEMORI_CONFLICT_RETRY_SECONDS", 300.0),
        )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise MemoriConfigError(f"{name} must be a number of seconds, got {raw!r}.")
    return value


def _spool_dir(env: Mapping[str, str]) -> Path:
    configured = env.get("MEMORI_SPOOL_DIR", "").strip()
    if configured:
        return Path(configured)
    cache = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "memori" / "spool"
