"""OpenAPI: the API key security scheme and the error responses every operation can give."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

ERROR_RESPONSES = {
    "400": "The request is invalid; `error.message` and `error.fields` say what to fix.",
    "401": "The API key is missing, unknown or revoked.",
    "403": "The API key is read-only and the request writes.",
    "404": "Not found (or it belongs to another tenant).",
    "409": "The request conflicts with what is stored (its state, or a database constraint); nothing was changed.",
    "413": "The request body is too large.",
    "415": "The body must be JSON (Content-Type: application/json).",
    "429": "Too many requests for this API key; retry after `Retry-After` seconds.",
    "503": "The database is unavailable; retry shortly (`error.message` says whether a write may have been stored).",
}


def error_codes(*, method: str, path: str, authenticated: bool, read_only_allowed: bool, listed: bool) -> set[str]:
    """The error statuses an operation can answer with, and only those."""
    codes = {"400", "429", "503"}
    if "{" in path or listed:  # an unknown id, or a page past the last
        codes.add("404")
    if method in SAFE_METHODS:
        return codes | ({"401"} if authenticated else set())
    if method != "DELETE":
        codes |= {"413", "415"}
    if authenticated:
        codes |= {"401", "409"}
        if not read_only_allowed:
            codes.add("403")
    return codes


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text="What went wrong and what to change.")
    fields = serializers.DictField(required=False, help_text="Per-field messages for validation errors.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class MemoriAutoSchema(AutoSchema):
    """Documents the one error shape on the operations, with the statuses each can answer."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = error_codes(
            method=self.method,
            path=self.path,
            authenticated=bool(self.view.get_authenticators()),
            read_only_allowed=getattr(self.view, "read_only_allowed", False),
            listed=self._is_list_view(),
        )
        for code, description in ERROR_RESPONSES.items():
            if code in codes and code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses

    def _get_request_for_media_type(self, serializer, direction="request"):
        """A request body given as a schema (not a serializer) is required when each of its forms
        has required properties, as a serializer's is."""
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, dict):
            required = all(variant.get("required") for variant in serializer.get("oneOf", [serializer]))
        return schema, required


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "memory.api.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <api key>` (the header `X-Memori-API-Key: <key>` also works).",
        }
