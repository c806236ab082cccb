"""Query filters of the list endpoints (django-filter): what the caller can narrow lists by."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django_filters.filters import BaseCSVFilter
from drf_spectacular.drainage import set_override

from memory import selectors
from memory.models import Memory, MemoryKind, Triple

PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"


class PrintableCharField(forms.CharField):
    """Text without control characters, checked as sent (before the surrounding spaces are trimmed),
    so that the query parameter's schema (pattern, maxLength) says exactly what is accepted."""

    def to_python(self, value):
        if isinstance(value, str):
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise forms.ValidationError("must not contain control characters.")
            if self.max_length is not None and len(value) > self.max_length:
                raise forms.ValidationError(f"must be at most {self.max_length} characters.")
        return super().to_python(value)


class PrintableCharFilter(django_filters.CharFilter):
    field_class = PrintableCharField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)
        schema = {"type": "string", "maxLength": self.extra["max_length"], "pattern": PRINTABLE_PATTERN}
        if self.extra.get("help_text"):
            schema["description"] = str(self.extra["help_text"])
        set_override(self, "field", schema)


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 date-time, converted to UTC (PostgreSQL refuses offsets beyond ±16 hours)."""

    def to_python(self, value):
        if value == "":
            raise forms.ValidationError("must be an ISO 8601 date-time such as 2024-05-01T10:00:00Z (or left out).")
        parsed = super().to_python(value)
        try:
            return parsed.astimezone(datetime.UTC) if parsed is not None and parsed.tzinfo else parsed
        except OverflowError:
            raise forms.ValidationError("is out of range.")


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class StrictFilterSet(django_filters.FilterSet):
    """An empty value is refused where the schema has no empty value: a choice or a date-time
    (`?kind=` says nothing). Text filters (`?q=`) keep meaning "any", and an empty list (`?ordering=`)
    the default."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if self.data.get(name) == "" and not isinstance(filter_, PrintableCharFilter | BaseCSVFilter):
                if name not in self.form.errors:
                    self.form.add_error(name, "must not be empty: give a value or leave the parameter out.")
                valid = False
        return valid


ORDERING_FIELDS = (
    ("first_seen_at", "first_seen_at"),
    ("last_seen_at", "last_seen_at"),
    ("mention_count", "mention_count"),
    ("recall_count", "recall_count"),
    ("id", "id"),
)


class RecallStatsFilter(StrictFilterSet):
    entity_id = PrintableCharFilter(field_name="entity__external_id", help_text="Entity external id.")
    q = PrintableCharFilter(field_name="content", lookup_expr="icontains", help_text="Text the content contains.")
    created_after = UtcDateTimeFilter(field_name="first_seen_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="first_seen_at", lookup_expr="lte")
    seen_after = UtcDateTimeFilter(field_name="last_seen_at", lookup_expr="gte")
    seen_before = UtcDateTimeFilter(field_name="last_seen_at", lookup_expr="lte")
    ordering = django_filters.OrderingFilter(fields=ORDERING_FIELDS, help_text="e.g. -last_seen_at, mention_count")


class MemoryFilter(RecallStatsFilter):
    kind = django_filters.ChoiceFilter(choices=MemoryKind.choices)
    process_id = PrintableCharFilter(method="filter_process", help_text="A process that contributed it.")
    current = django_filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")),
        method="filter_current",
        help_text="true: only current memories; false: only those a later memory superseded.",
    )

    class Meta:
        model = Memory
        fields = ["entity_id", "kind", "process_id", "q", "current"]

    def filter_process(self, queryset, name, value):
        return selectors.memory_contributed_by(queryset, process_external_id=value)

    def filter_current(self, queryset, name, value):
        return queryset.filter(valid_to__isnull=value == "true")


class TripleFilter(RecallStatsFilter):
    process_id = PrintableCharFilter(method="filter_process", help_text="A process that mentioned it.")
    subject = PrintableCharFilter(field_name="subject__name", lookup_expr="iexact")
    predicate = PrintableCharFilter(field_name="predicate__name", lookup_expr="iexact", max_length=100)
    object = PrintableCharFilter(field_name="object__name", lookup_expr="iexact")

    class Meta:
        model = Triple
        fields = ["entity_id", "process_id", "q", "subject", "predicate", "object"]

    def filter_process(self, queryset, name, value):
        return selectors.triple_contributed_by(queryset, process_external_id=value)


class EntityScopedFilter(StrictFilterSet):
    """Sessions and conversations: by entity and process external ids."""

    entity_id = PrintableCharFilter(field_name="entity__external_id")
    process_id = PrintableCharFilter(field_name="process__external_id")


class EntityFilter(StrictFilterSet):
    q = PrintableCharFilter(field_name="external_id", lookup_expr="icontains", help_text="Part of the entity id.")
    ordering = django_filters.OrderingFilter(
        fields=(("external_id", "entity_id"), ("last_activity_at", "last_activity_at"), ("created_at", "created_at"))
    )


class ProcessFilter(StrictFilterSet):
    q = PrintableCharFilter(field_name="external_id", lookup_expr="icontains", help_text="Part of the process id.")
