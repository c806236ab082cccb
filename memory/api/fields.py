"""Serializer fields that validate what agents send and say what to fix."""

from __future__ import annotations

from rest_framework import serializers

from memory.models import EXTERNAL_ID_MAX_LENGTH
from memory.services.identity import InvalidIdentifier, validate_external_id

# A printable id: no control characters, not blank. Also in the schema so generated clients know.
EXTERNAL_ID_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


class ExternalIdField(serializers.CharField):
    """An entity or process id: 1-200 characters, no control characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", EXTERNAL_ID_MAX_LENGTH)
        kwargs.setdefault("trim_whitespace", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, got {type(data).__name__}.")
        value = super().to_internal_value(data)
        try:
            return validate_external_id(value, label="this id")
        except InvalidIdentifier as exc:
            raise serializers.ValidationError(str(exc))


class CleanTextField(serializers.CharField):
    """Text without NUL characters (PostgreSQL cannot store them) and only strings accepted."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, got {type(data).__name__}.")
        if "\x00" in data:
            raise serializers.ValidationError("must not contain NUL characters.")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses booleans and strings such as "1e3"."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, float) and not data.is_integer()):
            raise serializers.ValidationError("must be an integer.")
        return super().to_internal_value(data)


def json_contains_nul(value) -> bool:
    """PostgreSQL's JSON columns cannot store a NUL character anywhere in a document (keys included)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class StorableJSONField(serializers.JSONField):
    """Any JSON the database can store: no NUL characters in keys or values."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if json_contains_nul(value):
            raise serializers.ValidationError("must not contain NUL characters (in keys or values).")
        return value
