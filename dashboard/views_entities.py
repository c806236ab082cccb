"""Entity list: search, sort and counts, linking to every per-entity page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from dashboard import selectors
from dashboard.access import entity_for, tenant_for
from dashboard.rendering import paginate, render_page


@login_required
def entity_list(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = tenant_for(request.user, tenant_id)
    search = request.GET.get("q", "").strip()[:200]
    sort = request.GET.get("sort", "activity")
    page_obj = paginate(request, selectors.entity_list(tenant=tenant, search=search, sort=sort))
    return render_page(
        request,
        "dashboard/entities.html",
        nav="entities",
        tenant=tenant,
        page_obj=page_obj,
        search=search,
        sort=sort if sort in selectors.ENTITY_SORTS else "activity",
        sorts=selectors.ENTITY_SORTS,
    )


@login_required
def entity_home(request: HttpRequest, entity_id: int) -> HttpResponse:
    return redirect("dashboard:graph", entity_for(request.user, entity_id).pk)
