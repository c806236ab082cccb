"""The admin inside the tenant: a staff member sees, picks and filters only the rows of the tenants
they are a member of (superusers: all), as the dashboard does (dashboard/access.py).

Every admin of tenant data is a ``TenantScopedAdmin`` (its inlines ``TenantScopedInline``). The
mixin finds how a model reaches its tenant by itself (the shortest chain of required foreign keys:
``Message`` -> ``conversation__entity__tenant``), so a new model is scoped without being listed here;
``tests/memory/test_admin_tenancy.py`` walks every registered admin so none can be left out.
What it covers:

- querysets: changelists, actions, search and the autocomplete of other admins' foreign keys;
- change, delete and history views of a row outside the user's tenants: 404, the same answer as
  for an id that does not exist (nothing tells the two apart);
- foreign-key choices in forms, raw-id labels and list filters: only the user's tenants' rows;
- forms: every tenant a form's foreign keys point to must be one and the same (a member of two
  tenants cannot join an entity of one to a process of the other).
"""

from __future__ import annotations

from collections import deque
from functools import cache

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator

from memory.models import Predicate, Tenant
from memory.selectors import tenants_for

# Models shared by tenants that reach them only backwards: a predicate is a word of the graph's
# vocabulary; a user sees the predicates their tenants' triples use.
SHARED_VOCABULARY = {Predicate: "triples__entity__tenant"}


@cache
def tenant_path(model: type[models.Model]) -> str | None:
    """The lookup from ``model`` to its tenant ("" for the tenant itself, e.g. "entity__tenant"),
    following required foreign keys breadth first; None for models that belong to no tenant."""
    if model is Tenant:
        return ""
    if model in SHARED_VOCABULARY:
        return SHARED_VOCABULARY[model]
    queue, seen = deque([(model, "")]), {model}
    while queue:
        current, path = queue.popleft()
        for field in current._meta.concrete_fields:
            if field.null or not (field.many_to_one or field.one_to_one):
                continue
            target, lookup = field.related_model, f"{path}{field.name}"
            if target is Tenant:
                return lookup
            if target not in seen:
                seen.add(target)
                queue.append((target, lookup + "__"))
    return None


def is_tenant_data(model: type[models.Model]) -> bool:
    return tenant_path(model) is not None


def scoped(queryset: models.QuerySet, user) -> models.QuerySet:
    """The rows of ``queryset`` the user may see: those of their tenants (all for a superuser, and
    all of a model that belongs to no tenant)."""
    path = tenant_path(queryset.model)
    if path is None or user.is_superuser:
        return queryset
    if path == "":
        return queryset.filter(pk__in=tenants_for(user))
    queryset = queryset.filter(**{f"{path}__in": tenants_for(user)})
    return queryset.distinct() if queryset.model in SHARED_VOCABULARY else queryset


def visible_to(user, model: type[models.Model]) -> models.QuerySet:
    return scoped(model._default_manager.all(), user)


def tenant_id_of(obj: models.Model) -> int | None:
    """The tenant a row belongs to, following its tenant path (None for shared rows)."""
    path = tenant_path(type(obj))
    if path is None or obj._meta.model in SHARED_VOCABULARY:
        return None
    if path == "":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
    return getattr(obj, f"{last}_id")


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """The raw-id input, whose label beside the id names only a row the user may see (the stock
    widget looks any id up, so typing another tenant's id would show its name)."""

    def __init__(self, rel, admin_site, *, queryset: models.QuerySet, using=None):
        super().__init__(rel, admin_site, using=using)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            obj = self.queryset.using(self.db).get(**{key: value})
        except (ValueError, ValidationError, self.queryset.model.DoesNotExist):
            return "", ""
        try:
            url = reverse(f"{self.admin_site.name}:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


class TenantRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A filter by a related row that offers only the rows of the user's tenants."""

    def field_choices(self, field, request, model_admin):
        target = field.target_field.attname
        choices = visible_to(request.user, field.related_model)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            choices = choices.order_by(*ordering)
        return [(getattr(row, target), str(row)) for row in choices]

    def has_output(self) -> bool:
        # Kept when a value is asked for, even with one choice: the admin drops a filter without
        # output, and with it the value (?entity__id__exact=<another tenant's> would list everything).
        return super().has_output() or bool(self.used_parameters)


class SameTenantModelForm(forms.ModelForm):
    """Refuses a row whose foreign keys point into two different tenants."""

    def clean(self):
        cleaned = super().clean()
        fields_by_tenant: dict[int, list[str]] = {}
        for name, value in cleaned.items():
            if isinstance(value, models.Model) and (tenant_id := tenant_id_of(value)) is not None:
                fields_by_tenant.setdefault(tenant_id, []).append(str(self.fields[name].label or name))
        if len(fields_by_tenant) > 1:
            groups = " / ".join(", ".join(names) for names in fields_by_tenant.values())
            raise ValidationError(f"These belong to different tenants and cannot be joined: {groups}.")
        return cleaned


class TenantScopedMixin:
    """Querysets and foreign-key choices limited to the user's tenants (admins and inlines)."""

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if "queryset" not in kwargs and is_tenant_data(related):
            kwargs["queryset"] = visible_to(request.user, related).order_by(*related._meta.ordering)
            if db_field.name in self.raw_id_fields and "widget" not in kwargs:
                kwargs["widget"] = ScopedRawIdWidget(
                    db_field.remote_field, self.admin_site, queryset=kwargs["queryset"], using=kwargs.get("using")
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TenantScopedAdmin(TenantScopedMixin, admin.ModelAdmin):
    """A ModelAdmin of tenant data: see the module docstring."""

    form = SameTenantModelForm

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id “{object_id}” in your tenants.")
        return obj

    def get_list_filter(self, request):
        return [self._scoped_filter(entry) for entry in super().get_list_filter(request)]

    def _scoped_filter(self, entry):
        if not isinstance(entry, str):
            return entry
        field = get_fields_from_path(self.model, entry)[-1]
        if field.is_relation and is_tenant_data(field.related_model):
            return (entry, TenantRelatedFieldListFilter)
        return entry


class TenantScopedInline(TenantScopedMixin, admin.TabularInline):
    """An inline of tenant data."""
