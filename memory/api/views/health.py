"""Health for load balancers: 200 when the database and the broker answer, 503 otherwise."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema
from kombu import Connection
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from memory.api.base import TenantAPIView

logger = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 2.0


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy", never a 500
        logger.warning("Health: database unreachable (%s)", exc)
        return False
    return True


def broker_ok() -> bool:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            connect_timeout=BROKER_TIMEOUT_SECONDS,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("Health: broker unreachable (%s)", exc)
        return False
    return True


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
        checks = {"database": database_ok(), "broker": broker_ok()}
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
