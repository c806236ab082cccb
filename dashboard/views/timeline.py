"""Entity Timeline: activity stacked by process, cumulative growth, and memory as of a chosen moment.

Without a range in the query it shows the entity's whole life where its data is (imported history
keeps its original times), in buckets sized to the range; a chart with nothing in range says so."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from dashboard.charts.time_series import cumulative_growth, stacked_bars
from dashboard.queries.graph import GraphFilters
from dashboard.queries.timeline import activity_by_process, as_of_totals, memories_as_of, memory_growth, mentions_until
from dashboard.queries.timeline_range import DataExtent, TimelineRange, data_extent
from dashboard.web.access import entity_for
from dashboard.web.periods import PRESET_DAYS, period_from_query
from dashboard.web.query_params import InvalidQuery, query_moment
from dashboard.web.rendering import paginate, render_page

# What each chart counts, for the sentence that replaces an empty chart.
NOUNS = {
    "Memories first seen": "new memories",
    "Exchanges": "exchanges",
    "Recalls": "recalls",
    "Augmentations finished": "finished augmentations",
}


def _timeline_range(request: HttpRequest, extent: DataExtent) -> tuple[TimelineRange, int | None]:
    """The range asked for: ?from=&to= (moments, the zoom links), ?days= or ?start=&end= (days),
    else (or ?days=all) the whole life. Unreadable values raise InvalidQuery (a 400 saying why)."""
    if "from" in request.GET or "to" in request.GET:
        first, last = query_moment("from", request.GET.get("from")), query_moment("to", request.GET.get("to"))
        if first is None or last is None:
            missing = "to" if first else "from"
            raise InvalidQuery(missing, request.GET.get(missing, ""), "give both “from” and “to”, or neither")
        return TimelineRange.around(first, last), None
    if request.GET.get("days", "all") != "all" or request.GET.get("start"):
        period = period_from_query(request.GET)
        return TimelineRange.fitting(period.start, period.end), period.days
    return TimelineRange.whole_life_of(extent), None


def _custom_days(request: HttpRequest) -> tuple | None:
    """The first and last day of a ?start=&end= range, to show them back in the form."""
    if "from" in request.GET or "to" in request.GET or not request.GET.get("start"):
        return None
    period = period_from_query(request.GET)
    return (period.start.date(), period.last_day) if period.days is None else None


@login_required
def timeline(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    extent = data_extent(entity)
    span, days = _timeline_range(request, extent)
    moment = GraphFilters.from_query({"start": request.GET.get("as_of", "")}).start
    figures = []
    for index, (title, series) in enumerate(activity_by_process(entity, span).items()):
        total = sum(sum(points.values()) for points in series.values())
        figure = stacked_bars(series, title=title, bucket=span.step) if total else None
        if figure:
            figure["layout"]["xaxis"] = {"range": [span.start, span.end], "type": "date"}
        figures.append({"id": f"timeline-{index}", "title": title, "noun": NOUNS[title], "figure": figure})
    growth = memory_growth(entity, span)
    context = {
        "span": span,
        "days": days,
        "custom_days": _custom_days(request),
        "extent": extent,
        "presets": PRESET_DAYS,
        "figures": figures,
        "growth_figure": cumulative_growth(
            growth,
            title="Cumulative memories",
            x_range=(span.start, span.end),
            marker_at=moment if moment and span.start <= moment <= span.end else None,
        )
        if sum(count for _, count in growth)
        else None,
        "moment": moment,
    }
    if moment is not None:
        context["as_of"] = as_of_totals(entity, moment)
        context["page_obj"] = page_obj = paginate(request, memories_as_of(entity, moment))
        mentions_until(page_obj.object_list, moment)
    return render_page(request, "dashboard/timeline.html", nav="timeline", entity=entity, **context)
