"""Direct database mode: inside the Django project (DJANGO_SETTINGS_MODULE set, no API key) the SDK talks
to the same database in process, through the very handlers the API's views call (memory/api/handlers.py).

Same interface and errors as `RestTransport` (post/get by REST path; a refusal is the `MemoriApiError` the
API would answer, 5xx and a lost database are `MemoriUnavailable`), so the rest of the SDK is unchanged:
recording still runs off the caller's path and spools when the database is unavailable. Django is
imported lazily, only when this mode is chosen. The tenant is named by MEMORI_TENANT.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from memori.errors import MemoriApiError, MemoriConfigError, MemoriUnavailable
from memori.transport import api_error

logger = logging.getLogger("memori")

DIRECT_ACTOR = "sdk:direct"  # who the audit trail credits for what direct mode writes


class DirectTransport:
    def __init__(self, tenant_name: str, *, settings_module: str) -> None:
        import django
        from django.apps import apps

        if not apps.ready:
            django.setup()
        from memory.models import Tenant

        self.api_url = f"django://{settings_module}/{tenant_name}"
        try:
            self._tenant_id = Tenant.objects.only("pk").get(name=tenant_name).pk
        except Tenant.DoesNotExist:
            raise MemoriConfigError(
                f"MEMORI_TENANT={tenant_name!r} is not a tenant of this database; create it first "
                "(e.g. `python manage.py create_api_key --tenant NAME --name agents`)."
            ) from None

    def post(self, path: str, body: dict, *, timeout: float) -> dict:
        handler = {
            "/api/v1/exchanges/": _record,
            "/api/v1/recall/": _recall,
            "/api/v1/memories/": _remember,
        }.get(path)
        if handler is None:
            raise MemoriApiError(f"POST {path} is not available in direct mode", status=404)
        return self._run("POST", path, handler, body)

    def get(self, path: str, *, params: dict | None = None, timeout: float) -> dict:
        if path != "/api/v1/jobs/":
            raise MemoriApiError(f"GET {path} is not available in direct mode", status=404)
        return self._run("GET", path, _jobs, params or {})

    def _run(self, method: str, path: str, handler: Callable[[Any, dict], dict], payload: dict) -> dict:
        from django.db import close_old_connections, connection

        from memory.models import Tenant

        close_old_connections()
        try:
            return handler(Tenant.objects.get(pk=self._tenant_id), payload)
        except Exception as err:  # noqa: BLE001 - answered as the API would: a refusal, or the server failing
            raise _as_api_answer(err, method, path) from None
        finally:
            # Helper threads (the recorder, asyncio.to_thread) must not keep connections open behind the app's back.
            if threading.current_thread() is not threading.main_thread() and not connection.in_atomic_block:
                connection.close()
            else:
                close_old_connections()


def _record(tenant, body: dict) -> dict:
    from memory.api.handlers import exchange_record

    return exchange_record(tenant=tenant, payload=body).body


def _recall(tenant, body: dict) -> dict:
    from memory.api.handlers import recall_answer

    return recall_answer(tenant=tenant, payload=body)


def _remember(tenant, body: dict) -> dict:
    from memory.api.handlers import memory_remember
    from memory.services.audit import Actor

    return memory_remember(tenant=tenant, payload=body, actor=Actor(label=DIRECT_ACTOR)).body


def _jobs(tenant, params: dict) -> dict:
    from memory.api.handlers import jobs_status_answer

    return jobs_status_answer(tenant=tenant, params=params)


def _as_api_answer(err: Exception, method: str, path: str) -> Exception:
    """The error the SDK would raise had the request gone over HTTP: the API's own exception handler
    gives the status and error body (400 invalid, 404, 409 conflict, 503 database unavailable)."""
    from django.db import DatabaseError

    from memory.api.errors import exception_handler

    response = exception_handler(err, {})
    if response is None:  # a bug, not a refusal: over HTTP this is a 500, which the SDK retries later
        logger.error("memori: direct mode failed on %s %s", method, path, exc_info=err)
        return MemoriUnavailable(f"memory server failed on {method} {path}: {err}")
    if response.status_code >= 500 or response.status_code == 429:
        if isinstance(err, DatabaseError):
            return MemoriUnavailable(f"database unavailable: {err}")
        return MemoriUnavailable(f"memory server answered {response.status_code} for {method} {path}")
    body = json.loads(json.dumps(response.data))  # plain str, lists and dicts, as over HTTP
    return api_error(response.status_code, body.get("error") or {}, method, path)
