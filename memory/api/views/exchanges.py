"""Recording exchanges: one LLM call (idempotent), or a bulk import of past conversations."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from memory import selectors
from memory.api.base import TenantAPIView
from memory.api.errors import Conflict
from memory.api.serializers.exchanges import (
    BulkExchangeInputSerializer,
    BulkRecordedSerializer,
    ExchangeInputSerializer,
    RecordedExchangeSerializer,
)
from memory.services.bulk_import import exchanges_import
from memory.services.identity import InvalidIdentifier
from memory.services.recording import InvalidExchange, record_exchange


def check_recall_events(tenant, event_ids: list[int | None]) -> None:
    """A recall event the exchange names must exist (in this tenant): a well-formed id that does not
    is a conflict with what is stored (409), not a malformed request."""
    wanted = {event_id for event_id in event_ids if event_id is not None}
    unknown = wanted - selectors.recall_event_ids_in(tenant=tenant, ids=wanted)
    if unknown:
        event_id = min(unknown)
        raise Conflict(f"recall_event_id: recall event {event_id} does not exist; send the event_id recall returned.")


class ExchangeCreateView(TenantAPIView):
    @extend_schema(
        operation_id="exchanges_record",
        summary="Record one LLM call (its new messages and reply) and queue its augmentation",
        request=ExchangeInputSerializer,
        responses={
            201: RecordedExchangeSerializer,
            200: OpenApiResponse(RecordedExchangeSerializer, description="Already recorded (same idempotency_key)."),
        },
    )
    def post(self, request):
        serializer = ExchangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_recall_events(self.tenant, [serializer.validated_data.get("recall_event_id")])
        try:
            recorded = record_exchange(tenant=self.tenant, data=serializer.to_exchange_input())
        except (InvalidExchange, InvalidIdentifier) as exc:
            raise ValidationError({"non_field_errors": [str(exc)]})
        code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
        return Response(RecordedExchangeSerializer(recorded).data, status=code)


class ExchangeBulkView(TenantAPIView):
    @extend_schema(
        operation_id="exchanges_bulk_import",
        summary="Import many past exchanges (original timestamps kept); augmentation is queued in batches",
        request=BulkExchangeInputSerializer,
        responses={201: BulkRecordedSerializer},
    )
    def post(self, request):
        serializer = BulkExchangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data["exchanges"]
        check_recall_events(self.tenant, [item.get("recall_event_id") for item in items])
        from memory.api.serializers.exchanges import exchange_input_from

        try:
            results = exchanges_import(tenant=self.tenant, items=[exchange_input_from(item) for item in items])
        except (InvalidExchange, InvalidIdentifier) as exc:
            raise ValidationError({"exchanges": [str(exc)]})
        return Response(BulkRecordedSerializer({"results": results}).data, status=status.HTTP_201_CREATED)
