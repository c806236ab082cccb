"""Entity Timeline: activity stacked by process, cumulative growth, and memory as of a chosen moment."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboard import charts, selectors
from dashboard.access import entity_for
from dashboard.graph import GraphFilters
from dashboard.periods import PRESET_DAYS, Period, period_from_query
from dashboard.rendering import paginate, render_page
from dashboard.timeline import activity_by_process, as_of_totals, memories_as_of, memory_growth, mentions_until


def _entity_period(request: HttpRequest, entity) -> Period:
    if request.GET.get("days") or request.GET.get("start"):
        return period_from_query(request.GET)
    now = timezone.now()
    return Period(start=min(entity.created_at, now - timedelta(hours=1)), end=now + timedelta(minutes=1), days=None)


@login_required
def timeline(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    period = _entity_period(request, entity)
    colors = charts.process_colors(p.external_id for p in selectors.entity_processes(entity=entity))
    moment = GraphFilters.from_query({"start": request.GET.get("as_of", "")}).start
    figures = [
        (f"timeline-{index}", charts.stacked_bars(series, title=title, colors=colors))
        for index, (title, series) in enumerate(activity_by_process(entity, period).items())
    ]
    context = {
        "period": period,
        "presets": PRESET_DAYS,
        "figures": figures,
        "growth_figure": charts.cumulative_growth(
            memory_growth(entity, period),
            title="Cumulative memories",
            marker_at=moment if moment and period.start <= moment <= period.end else None,
        ),
        "moment": moment,
    }
    if moment is not None:
        context["as_of"] = as_of_totals(entity, moment)
        context["page_obj"] = page_obj = paginate(request, memories_as_of(entity, moment))
        mentions_until(page_obj.object_list, moment)
    return render_page(request, "dashboard/timeline.html", nav="timeline", entity=entity, **context)
