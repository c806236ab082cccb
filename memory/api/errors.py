"""One error shape everywhere: {"error": {"code": ..., "message": ..., "fields": {...}}}."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError, IntegrityError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


# A connection lost during or right after COMMIT leaves the client not knowing: say what makes a retry safe.
MAYBE_STORED = (
    "The request may have been stored before the connection was lost: a retry with the same idempotency_key "
    "is not stored twice (an exchange with occurred_at, or created_at on each message, needs no key)."
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with what is stored."


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            return f"{key}: {_first_message(value)}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is larger than {limit} bytes; send less data per request."
        return Response({"error": {"code": "request_too_large", "message": message}}, status=413)
    if isinstance(exc, DataError):
        # A value the database refuses to store (validation should have caught it): the caller's fault.
        logger.warning("Database refused a value, answered with 400: %s", exc)
        body = {"error": {"code": "invalid", "message": f"A value cannot be stored: {str(exc).splitlines()[0]}"}}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # A constraint refused a write that validation let through (a trigger, a row changed meanwhile).
        logger.warning("Database constraint answered with 409: %s", exc)
        message = f"The database refused this request: {str(exc).splitlines()[0] if str(exc) else 'a constraint'}."
        return Response({"error": {"code": "conflict", "message": message}}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DatabaseError):
        logger.warning("Database error answered with 503: %s", exc)
        message = "The database is unavailable; retry shortly."
        request = context.get("request")
        if request is not None and request.method not in SAFE_METHODS:
            message += f" {MAYBE_STORED}"
        body = {"error": {"code": "database_unavailable", "message": message}}
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        error = {"code": "invalid", "message": _first_message(exc.detail), "fields": fields}
    elif isinstance(exc, APIException):
        codes = exc.get_codes()
        error = {"code": codes if isinstance(codes, str) else "error", "message": _first_message(exc.detail)}
    else:  # pragma: no cover - DRF only returns responses for APIException and Http404/PermissionDenied
        error = {"code": "error", "message": str(exc)}
    response.data = {"error": error}
    return response
