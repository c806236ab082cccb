"""OpenAPI: the API key security scheme and the error responses every operation can give."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ERROR_RESPONSES = {
    "400": "The request is invalid; `error.message` and `error.fields` say what to fix.",
    "401": "The API key is missing, unknown or revoked.",
    "403": "The API key is read-only and the request writes.",
    "404": "Not found (or it belongs to another tenant).",
    "413": "The request body is too large.",
    "415": "The body must be JSON (Content-Type: application/json).",
    "429": "Too many requests for this API key; retry after `Retry-After` seconds.",
    "503": "The database is unavailable; retry shortly.",
}
PUBLIC_ERROR_RESPONSES = {"400", "404", "413", "429", "503"}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text="What went wrong and what to change.")
    fields = serializers.DictField(required=False, help_text="Per-field messages for validation errors.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class MemoriAutoSchema(AutoSchema):
    """Documents the one error shape on every operation."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = not self.view.get_authenticators()
        for code, description in ERROR_RESPONSES.items():
            if public and code not in PUBLIC_ERROR_RESPONSES:
                continue
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "memory.api.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <api key>` (the header `X-Memori-API-Key: <key>` also works).",
        }
