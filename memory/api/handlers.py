"""The API's operations as functions: a tenant and a payload in, the answer body out.

Each validates its payload with the operation's input serializer, calls the service, and serializes
the answer; refusals are DRF exceptions (400 ValidationError, 404 NotFound, 409 Conflict) so that
memory.api.errors gives them the one error shape. Two callers share them, so an operation behaves
the same whichever way it is reached: the DRF views (which add only HTTP: status codes, the key's
permissions) and the SDK's direct mode (memori/direct.py, in process inside this project).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import NotFound, ValidationError

from memory import selectors
from memory.api.errors import Conflict
from memory.api.serializers.exchanges import (
    BulkExchangeInputSerializer,
    BulkRecordedSerializer,
    ExchangeInputSerializer,
    RecordedExchangeSerializer,
    exchange_input_from,
)
from memory.api.serializers.memories import AttributeCreateSerializer, MemoryCreateSerializer, MemoryDetailSerializer
from memory.api.serializers.operations import (
    JobSerializer,
    JobsQuerySerializer,
    JobsStatusSerializer,
    RecallInputSerializer,
    RecallOutputSerializer,
)
from memory.models import MemoryKind, Tenant
from memory.services.audit import Actor
from memory.services.bulk_import import exchanges_import
from memory.services.editing import InvalidMemoryEdit, MemoryEditConflict
from memory.services.identity import InvalidIdentifier
from memory.services.jobs_status import UnknownJobs, jobs_status
from memory.services.publishing import jobs_retry
from memory.services.recording import InvalidExchange, record_exchange
from memory.services.remembering import memory_get_or_create

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class Written:
    """A write's answer body, and whether it created what it names (201) or found it already there (200)."""

    body: dict
    created: bool


def _invalid(exc: Exception, field: str = "non_field_errors") -> ValidationError:
    return ValidationError({field: [str(exc)]})


def check_recall_events(tenant: Tenant, event_ids: list[int | None]) -> None:
    """A recall event the exchange names must exist (in this tenant): a well-formed id that does not
    is a conflict with what is stored (409), not a malformed request."""
    wanted = {event_id for event_id in event_ids if event_id is not None}
    unknown = wanted - selectors.recall_event_ids_in(tenant=tenant, ids=wanted)
    if unknown:
        event_id = min(unknown)
        raise Conflict(f"recall_event_id: recall event {event_id} does not exist; send the event_id recall returned.")


def exchange_record(*, tenant: Tenant, payload: Payload) -> Written:
    """Record one LLM call; the same idempotency_key again answers with the exchange already recorded."""
    serializer = ExchangeInputSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    check_recall_events(tenant, [serializer.validated_data.get("recall_event_id")])
    try:
        recorded = record_exchange(tenant=tenant, data=serializer.to_exchange_input())
    except (InvalidExchange, InvalidIdentifier) as exc:
        raise _invalid(exc)
    return Written(body=dict(RecordedExchangeSerializer(recorded).data), created=recorded.created)


def exchanges_bulk_record(*, tenant: Tenant, payload: Payload) -> dict:
    """Import many past exchanges at once: all of them, or none (the first refusal names the reason)."""
    serializer = BulkExchangeInputSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    items = serializer.validated_data["exchanges"]
    check_recall_events(tenant, [item.get("recall_event_id") for item in items])
    try:
        results = exchanges_import(tenant=tenant, items=[exchange_input_from(item) for item in items])
    except (InvalidExchange, InvalidIdentifier) as exc:
        raise _invalid(exc, "exchanges")
    return dict(BulkRecordedSerializer({"results": results}).data)


def recall_answer(*, tenant: Tenant, payload: Payload, may_write: bool = True) -> dict:
    """What an agent injects before an LLM call. `may_write` False (a read-only key) stores no new
    entity, process or session for it."""
    from memory.services.recall import recall_for_call  # loads the recall index machinery on first use only

    serializer = RecallInputSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    recall_request = serializer.to_recall_request(tenant)
    recall_request.may_write = may_write
    try:
        result = recall_for_call(recall_request)
    except InvalidIdentifier as exc:
        raise _invalid(exc)
    return dict(RecallOutputSerializer(result).data)


def memory_remember(*, tenant: Tenant, payload: Payload, actor: Actor) -> Written:
    """Store one memory as given (no augmentation); the same content again answers with the existing one."""
    serializer = MemoryCreateSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return _remember(tenant, actor, data, kind=data["kind"], process_id=data.get("process_id"))


def attribute_remember(*, tenant: Tenant, payload: Payload, actor: Actor) -> Written:
    """Store one attribute of a process (only that process recalls it)."""
    serializer = AttributeCreateSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return _remember(tenant, actor, data, kind=MemoryKind.ATTRIBUTE, process_id=data["process_id"])


def _remember(tenant: Tenant, actor: Actor, data: dict, *, kind: str, process_id: str | None) -> Written:
    try:
        memory, created = memory_get_or_create(
            tenant=tenant,
            entity_id=data["entity_id"],
            content=data["content"],
            kind=kind,
            process_id=process_id,
            actor=actor,
        )
    except MemoryEditConflict as exc:
        raise Conflict(str(exc))
    except (InvalidMemoryEdit, InvalidIdentifier) as exc:
        raise _invalid(exc)
    memory = selectors.memory_detail_list(tenant=tenant).get(pk=memory.pk)
    return Written(body=dict(MemoryDetailSerializer(memory).data), created=created)


def jobs_status_answer(*, tenant: Tenant, params: Payload) -> dict:
    """The status of augmentation jobs; with `wait`, once all are finished (bounded)."""
    query = JobsQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    try:
        result = jobs_status(tenant=tenant, ids=query.validated_data["ids"], wait_seconds=query.validated_data["wait"])
    except UnknownJobs as exc:
        raise NotFound(str(exc))
    return dict(JobsStatusSerializer({"jobs": result.jobs, "pending": result.pending}).data)


def job_retry(*, tenant: Tenant, job_id: int) -> dict:
    """Queue a failed or stuck augmentation job again; a finished one is a conflict (409)."""
    job = selectors.job_get(tenant=tenant, job_id=job_id)
    if job is None:
        raise NotFound(f"No augmentation job with id {job_id}.")
    if job.status == job.Status.DONE:
        raise Conflict(f"job {job_id} is already done; only failed or stuck jobs can be retried.")
    jobs_retry([job.pk])
    job.refresh_from_db()
    return dict(JobSerializer(job).data)
