"""Health for load balancers: 200 when the database and the broker answer, 503 otherwise."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from memory.api.base import TenantAPIView
from memory.db import database_answers
from memory.services.publishing import broker_answers


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="ok or unavailable")
    database = serializers.BooleanField()
    broker = serializers.BooleanField()


class HealthView(TenantAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        operation_id="health",
        summary="Database and broker reachability (no API key needed)",
        responses={200: HealthSerializer, 503: HealthSerializer},
        auth=[],
    )
    def get(self, request):
        checks = {"database": database_answers(), "broker": broker_answers()}
        healthy = all(checks.values())
        body = {"status": "ok" if healthy else "unavailable", **checks}
        return Response(body, status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE)


class UnknownEndpointView(TenantAPIView):
    """Any other path under /api/v1/: a 404 in the API's error shape, not an HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(exclude=True)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound("No such API endpoint; see /api/v1/docs/ for the list.")
