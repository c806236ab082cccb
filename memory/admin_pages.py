"""Changelists whose page of rows is completed after it is loaded, with one query per column for
the whole page (contributing processes, audit sentences), never one per row."""

from __future__ import annotations

from django.contrib.admin.views.main import ChangeList

from memory.admin_tenancy import TenantScopedInline


class CompletedChangeList(ChangeList):
    def get_results(self, request) -> None:
        super().get_results(request)
        self.model_admin.complete_page(request, list(self.result_list))  # the page's cached rows


class PageCompletedAdmin:
    """Admins that set attributes on the rows of a changelist page before it is rendered."""

    def get_changelist(self, request, **kwargs):
        return CompletedChangeList

    def complete_page(self, request, rows: list) -> None:
        """Set what the list's columns read on ``rows`` (the page's own objects)."""


class ViewOnlyAdmin:
    """Admins of rows written only by the services (audit entries, counts): listed and shown, never
    added, edited or deleted here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(TenantScopedInline):
    """Rows listed under their parent, each linking to its own page; never edited there."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
