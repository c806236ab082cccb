"""Serializer fields that validate what agents send and say what to fix."""

from __future__ import annotations

from django.core.validators import MinLengthValidator, RegexValidator
from rest_framework import serializers

from memory.models import EXTERNAL_ID_MAX_LENGTH
from memory.services.identity import InvalidIdentifier, validate_external_id
from memory.services.storable_text import json_text_problem, text_problem

# A printable id: no control characters, not blank. Also in the schema so generated clients know.
EXTERNAL_ID_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
# Text the database can store has no NUL; declared in the schema of every text field.
STORABLE_TEXT_PATTERN = r"^[^\x00]*$"
NONBLANK_TEXT_PATTERN = r"^\s*[^\s\x00][^\x00]*$"  # and not only whitespace (it is trimmed)


def validate_storable_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise serializers.ValidationError(problem)
    return value


class ExternalIdField(serializers.CharField):
    """An entity or process id: 1-200 characters, not blank, no control characters (pattern in the schema)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", EXTERNAL_ID_MAX_LENGTH)
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault("trim_whitespace", True)
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(EXTERNAL_ID_PATTERN, message="must not be blank or contain control characters.")
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, got {type(data).__name__}.")
        value = validate_storable_text(super().to_internal_value(data))
        try:
            return validate_external_id(value, label="this id")
        except InvalidIdentifier as exc:
            raise serializers.ValidationError(str(exc))


class CleanTextField(serializers.CharField):
    """Text the database can store (see `text_problem`); only strings accepted."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        blank_ok = self.allow_blank or not self.trim_whitespace
        if not self.allow_blank and self.min_length is None:
            self.min_length = 1
            self.validators.append(MinLengthValidator(1))
        pattern = STORABLE_TEXT_PATTERN if blank_ok else NONBLANK_TEXT_PATTERN
        self.validators.append(RegexValidator(pattern, message="must not be blank or contain NUL characters."))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, got {type(data).__name__}.")
        return validate_storable_text(super().to_internal_value(data))


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses booleans and strings such as "1e3"."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, float) and not data.is_integer()):
            raise serializers.ValidationError("must be an integer.")
        return super().to_internal_value(data)


def validate_storable_json(value):
    problem = json_text_problem(value)
    if problem:
        raise serializers.ValidationError(problem)
    return value


class StorableJSONField(serializers.JSONField):
    """Any JSON the database can store: no NUL characters or lone surrogates in keys or values."""

    def to_internal_value(self, data):
        return validate_storable_json(super().to_internal_value(data))
