"""Direct database mode: inside the Django project (DJANGO_SETTINGS_MODULE set, no API key) the SDK talks
to the same database through the server's own serializers and services, in process.

Same interface as `RestTransport` (post/get by REST path), so the rest of the SDK is unchanged: recording
still runs off the caller's path and spools when the database is unavailable. Django is imported lazily,
only when this mode is chosen. The tenant is named by MEMORI_TENANT.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from memori.errors import MemoriApiError, MemoriConfigError, MemoriUnavailable


def direct_mode_available() -> bool:
    return bool(os.environ.get("DJANGO_SETTINGS_MODULE"))


class DirectTransport:
    def __init__(self, tenant_name: str) -> None:
        import django
        from django.apps import apps

        if not apps.ready:
            django.setup()
        from memory.models import Tenant

        self.api_url = f"django://{os.environ['DJANGO_SETTINGS_MODULE']}/{tenant_name}"
        try:
            self._tenant_id = Tenant.objects.only("pk").get(name=tenant_name).pk
        except Tenant.DoesNotExist:
            raise MemoriConfigError(
                f"MEMORI_TENANT={tenant_name!r} is not a tenant of this database; create it first "
                "(e.g. `python manage.py create_api_key --tenant NAME --name agents`)."
            ) from None

    def post(self, path: str, body: dict, *, timeout: float) -> dict:
        handler = {
            "/api/v1/exchanges/": self._record,
            "/api/v1/recall/": self._recall,
            "/api/v1/memories/": self._remember,
        }.get(path)
        if handler is None:
            raise MemoriApiError(f"POST {path} is not available in direct mode", status=404)
        return self._run(handler, body)

    def get(self, path: str, *, params: dict | None = None, timeout: float) -> dict:
        if path != "/api/v1/jobs/":
            raise MemoriApiError(f"GET {path} is not available in direct mode", status=404)
        return self._run(self._jobs, params or {})

    def _run(self, handler, payload: dict) -> dict:
        from django.db import DatabaseError, close_old_connections, connection
        from rest_framework.exceptions import APIException

        close_old_connections()
        try:
            return handler(self._tenant(), payload)
        except DatabaseError as err:
            raise MemoriUnavailable(f"database unavailable: {err}") from None
        except APIException as err:
            raise MemoriApiError(str(err.detail), status=err.status_code, fields=_fields(err.detail)) from None
        except ValueError as err:  # InvalidExchange, InvalidIdentifier, InvalidMemoryEdit, UnknownJobs...
            raise MemoriApiError(str(err), status=400) from None
        except LookupError as err:
            raise MemoriApiError(str(err), status=404) from None
        finally:
            # Helper threads (the recorder, asyncio.to_thread) must not keep connections open behind the app's back.
            if threading.current_thread() is not threading.main_thread() and not connection.in_atomic_block:
                connection.close()
            else:
                close_old_connections()

    def _tenant(self):
        from memory.models import Tenant

        return Tenant.objects.get(pk=self._tenant_id)

    @staticmethod
    def _record(tenant, body: dict) -> dict:
        from memory.api.serializers.exchanges import ExchangeInputSerializer, RecordedExchangeSerializer
        from memory.api.views.exchanges import check_recall_events
        from memory.services.recording import record_exchange

        serializer = ExchangeInputSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        check_recall_events(tenant, [serializer.validated_data.get("recall_event_id")])
        recorded = record_exchange(tenant=tenant, data=serializer.to_exchange_input())
        return dict(RecordedExchangeSerializer(recorded).data)

    @staticmethod
    def _recall(tenant, body: dict) -> dict:
        from memory.api.serializers.operations import RecallInputSerializer, RecallOutputSerializer
        from memory.services.recall import recall_for_call

        serializer = RecallInputSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        result = recall_for_call(serializer.to_recall_request(tenant))
        return dict(RecallOutputSerializer(result).data)

    @staticmethod
    def _remember(tenant, body: dict) -> dict:
        from memory.api.serializers.memories import MemoryCreateSerializer
        from memory.services.audit import Actor
        from memory.services.remembering import memory_get_or_create

        serializer = MemoryCreateSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        memory, created = memory_get_or_create(
            tenant=tenant,
            entity_id=data["entity_id"],
            kind=data["kind"],
            content=data["content"],
            process_id=data.get("process_id"),
            actor=Actor(label="sdk:direct"),
        )
        return {"id": memory.pk, "kind": memory.kind, "content": memory.content, "created": created}

    @staticmethod
    def _jobs(tenant, params: dict) -> dict:
        from memory.api.serializers.operations import JobsQuerySerializer, JobsStatusSerializer
        from memory.services.jobs_status import jobs_status

        query = JobsQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        result = jobs_status(tenant=tenant, ids=query.validated_data["ids"], wait_seconds=query.validated_data["wait"])
        return dict(JobsStatusSerializer({"jobs": result.jobs, "pending": result.pending}).data)


def _fields(detail: Any) -> dict:
    return {str(k): v for k, v in detail.items()} if isinstance(detail, dict) else {}
