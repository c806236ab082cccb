"""Recording exchanges: one LLM call (idempotent), or a bulk import of past conversations."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from memory.api import handlers
from memory.api.base import TenantAPIView
from memory.api.serializers.exchanges import (
    BulkExchangeInputSerializer,
    BulkRecordedSerializer,
    ExchangeInputSerializer,
    RecordedExchangeSerializer,
)


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
        written = handlers.exchange_record(tenant=self.tenant, payload=request.data)
        return Response(written.body, status=status.HTTP_201_CREATED if written.created else status.HTTP_200_OK)


class ExchangeBulkView(TenantAPIView):
    @extend_schema(
        operation_id="exchanges_bulk_import",
        summary="Import many past exchanges (original timestamps kept); augmentation is queued in batches",
        request=BulkExchangeInputSerializer,
        responses={201: BulkRecordedSerializer},
    )
    def post(self, request):
        body = handlers.exchanges_bulk_record(tenant=self.tenant, payload=request.data)
        return Response(body, status=status.HTTP_201_CREATED)
