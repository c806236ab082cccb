"""Overview: per-tenant counts and trends, the busiest entities and the latest handoff gaps."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from dashboard.charts.time_series import trend_lines
from dashboard.queries.gaps import find_handoff_gaps
from dashboard.queries.overview import (
    LATENCY_SAMPLE,
    latest_recall_events,
    overview_activity,
    overview_stats,
    overview_trends,
    recent_activity_version,
    top_entities,
)
from dashboard.web.access import default_tenant_for, tenant_for
from dashboard.web.periods import PRESET_DAYS, period_from_query
from dashboard.web.rendering import live_update, render_page

GAP_SCAN = 100
GAPS_SHOWN = 6


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.GET.get("tenant", "").isdigit():
        return redirect("dashboard:overview", tenant_for(request.user, int(request.GET["tenant"])).pk)
    tenant = default_tenant_for(request.user)
    if tenant is None:
        return render(request, "dashboard/no_tenant.html", {"user_tenants": []})
    return redirect("dashboard:overview", tenant.pk)


def _overview_context(request: HttpRequest, tenant) -> dict:
    period = period_from_query(request.GET)
    # The overview lists pending-context and contradiction gaps; the entity's gap page also checks missed memories.
    events = latest_recall_events(tenant=tenant, limit=GAP_SCAN)
    activity = overview_activity(tenant=tenant, period=period)
    return {
        "period": period,
        "presets": PRESET_DAYS,
        "stats": overview_stats(tenant=tenant, period=period, activity=activity),
        "trend_figure": trend_lines(overview_trends(period=period, activity=activity), title="Activity over time"),
        "top_entities": top_entities(activity=activity.exchanges),
        "latency_sample": LATENCY_SAMPLE,
        "gaps": find_handoff_gaps(events, kinds=("pending", "contradiction"))[:GAPS_SHOWN],
        "version": recent_activity_version(tenant=tenant),
    }


@login_required
def overview(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = tenant_for(request.user, tenant_id)
    return render_page(
        request, "dashboard/overview.html", nav="overview", tenant=tenant, **_overview_context(request, tenant)
    )


@login_required
def overview_live(request: HttpRequest, tenant_id: int) -> JsonResponse:
    """Polled by the open overview: the re-rendered body when anything changed since ``since``."""
    tenant = tenant_for(request.user, tenant_id)
    return live_update(
        request,
        recent_activity_version(tenant=tenant),
        "dashboard/_overview_body.html",
        lambda: {**_overview_context(request, tenant), "tenant": tenant},
    )
