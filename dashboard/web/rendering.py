"""What every dashboard page needs in its template: the user's tenants and the current tenant/entity."""

from __future__ import annotations

from collections.abc import Callable

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from memory.selectors import tenants_for

PAGE_SIZE = 50


def render_page(request: HttpRequest, template: str, *, nav: str, tenant=None, entity=None, **context) -> HttpResponse:
    if entity is not None and tenant is None:
        tenant = entity.tenant
    context.update(nav=nav, tenant=tenant, entity=entity, user_tenants=list(tenants_for(request.user)[:50]))
    return render(request, template, context)


def paginate(request: HttpRequest, queryset, *, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def live_update(request: HttpRequest, version: str, template: str, context: Callable[[], dict]) -> JsonResponse:
    """The answer to a page's live poll: unchanged when its ``since`` is the current ``version``,
    else the part ``template`` re-rendered (``context`` is only built then)."""
    if request.GET.get("since") == version:
        return JsonResponse({"changed": False, "version": version})
    html = render_to_string(template, context(), request=request)
    return JsonResponse({"changed": True, "version": version, "html": html})
