"""The REST transport: JSON over urllib with bounded timeouts. No third-party HTTP client needed."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from memori.errors import MemoriApiError, MemoriUnavailable

USER_AGENT = "memori-python-sdk/0.1"


class Transport(Protocol):
    """How the SDK reaches the server's operations by their REST paths: over HTTP (`RestTransport`) or,
    inside the Django project, in process (`memori.direct.DirectTransport`). Both raise the same errors:
    `MemoriUnavailable` for an absent or failing server, `MemoriApiError` for a refusal."""

    api_url: str

    def post(self, path: str, body: dict, *, timeout: float) -> dict: ...

    def get(self, path: str, *, params: dict | None = None, timeout: float) -> dict: ...


class RestTransport:
    """Talks to one Memori server with one API key. Thread-safe (each request opens its own connection)."""

    def __init__(self, api_url: str, api_key: str) -> None:
        self.api_url = api_url.rstrip("/")
        self._api_key = api_key

    def post(self, path: str, body: dict, *, timeout: float) -> dict:
        return self._request("POST", path, body=body, timeout=timeout)

    def get(self, path: str, *, params: dict | None = None, timeout: float) -> dict:
        if params:
            path = f"{path}?{urllib.parse.urlencode(params, safe=',')}"  # ids=1,2,3 stays short
        return self._request("GET", path, timeout=timeout)

    def _request(self, method: str, path: str, *, body: Any = None, timeout: float) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.api_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL is configured)
                raw = response.read()
        except urllib.error.HTTPError as err:
            raw = err.read()
            if err.code >= 500 or err.code == 429:
                raise MemoriUnavailable(f"memory server answered {err.code} for {method} {path}") from None
            raise api_error_from_body(err.code, raw, method, path) from None
        except (OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)
            raise MemoriUnavailable(f"memory server at {self.api_url} unreachable: {reason}") from None
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise MemoriUnavailable(f"memory server sent a non-JSON answer to {method} {path}") from None


def api_error_from_body(status: int, raw: bytes, method: str, path: str) -> MemoriApiError:
    """The server's error answer as the SDK raises it (its text, when the body is not the error shape)."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        error = None
    text = raw.decode(errors="replace")[:300]
    return api_error(status, {"message": text, **error} if isinstance(error, dict) else {"message": text}, method, path)


def api_error(status: int, error: dict, method: str, path: str) -> MemoriApiError:
    """The API's error shape ({"code", "message", "fields"}) as `MemoriApiError`."""
    message = error.get("message") or ""
    return MemoriApiError(
        f"{method} {path} -> {status}: {message}",
        status=status,
        code=error.get("code") or "",
        fields=error.get("fields") or {},
    )
