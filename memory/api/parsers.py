"""A strict JSON parser: size limit, strict UTF-8 and a bound on nesting depth.

DRF reads the request stream directly, which skips Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, so
the limit is enforced here. Deeply nested documents are refused before they can exhaust the stack.
"""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


def _depth_exceeds(value: object, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes; send less data per request.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"The request body is not valid UTF-8 (byte {exc.start}).")
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            raise exceptions.ParseError(f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
        except ValueError as exc:
            raise exceptions.ParseError(f"The request body is not valid JSON: {exc}.")
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
        return data


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in JSON")
