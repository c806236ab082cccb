"""Serializer fields that validate what agents send and say what to fix."""

from __future__ import annotations

from django.core.validators import MinLengthValidator, RegexValidator
from rest_framework import serializers

from memory.models import EXTERNAL_ID_MAX_LENGTH
from memory.services.identity import InvalidIdentifier, validate_external_id
from memory.services.storable_text import json_text_problem, text_problem

# The patterns the schema declares, and the fields check (written to match in linear time).
# A printable id: no control characters, not blank (surrounding whitespace is trimmed).
EXTERNAL_ID_PATTERN = r"^\s*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*\s*$"
# Text the database can store has no NUL; declared in the schema of every text field. Not empty:
# the schema of a field that may be blank adds "" as its other form (which must be the only one).
STORABLE_TEXT_PATTERN = r"^[^\x00]+$"
NONBLANK_TEXT_PATTERN = r"^\s*[^\s\x00][^\x00]*$"  # and not only whitespace (it is trimmed)
WORDS_TEXT_PATTERN = r"^(?:[^\x00\w]|_)*[^\W_][^\x00]*$"  # and at least one letter or digit


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
    """Text the database can store (see `text_problem`); only strings accepted. Unless blank is
    allowed, it must hold more than whitespace (`nonblank_pattern`, also in the schema)."""

    nonblank_pattern = NONBLANK_TEXT_PATTERN
    nonblank_message = "must not be blank or contain NUL characters."

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        blank_ok = self.allow_blank or not self.trim_whitespace
        if not self.allow_blank and self.min_length is None:
            self.min_length = 1
            self.validators.append(MinLengthValidator(1))
        if blank_ok:
            self.validators.append(RegexValidator(STORABLE_TEXT_PATTERN, message="must not contain NUL characters."))
        else:
            self.validators.append(RegexValidator(self.nonblank_pattern, message=self.nonblank_message))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, got {type(data).__name__}.")
        return validate_storable_text(super().to_internal_value(data))


class WordsTextField(CleanTextField):
    """Text that says something: at least one letter or digit (a memory's content)."""

    nonblank_pattern = WORDS_TEXT_PATTERN
    nonblank_message = "must contain some words."


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses booleans and strings such as "1e3"."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, float) and not data.is_integer()):
            raise serializers.ValidationError("must be an integer.")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A number; booleans and strings are refused (JSON has numbers)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise serializers.ValidationError("must be a number.")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false; not 1, "yes" or "true" as a string."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError("must be true or false.")
        return data


def validate_storable_json(value):
    problem = json_text_problem(value)
    if problem:
        raise serializers.ValidationError(problem)
    return value


class StorableJSONField(serializers.JSONField):
    """Any JSON the database can store: no NUL characters or lone surrogates in keys or values."""

    def to_internal_value(self, data):
        return validate_storable_json(super().to_internal_value(data))
