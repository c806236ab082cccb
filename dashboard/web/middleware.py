"""Bad query parameters on dashboard pages become a 400 page that says what is wrong, never a 500.

Before a dashboard view runs, every parameter with a dashboard-wide meaning is checked
(``dashboard.web.query_params.validate_query``) and ids in the path beyond what a database stores are a
404; whatever a view's own parsing raises as ``InvalidQuery`` gets the same page. The page keeps the
navigation of the tenant or entity in the path (when the user may see it) and links to the same
page without the offending parameter.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from dashboard.web.access import entity_for, tenant_for
from dashboard.web.query_params import MAX_ID, InvalidQuery, validate_query
from memory.selectors import tenants_for


class QueryValidationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.namespace != "dashboard" or not request.user.is_authenticated:
            return None  # anonymous visitors are sent to the login page by the view, whatever they asked
        if any(isinstance(value, int) and value > MAX_ID for value in view_kwargs.values()):
            raise Http404("No such page.")
        try:
            validate_query(request.GET)
        except InvalidQuery as error:
            return bad_query_response(request, error)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, InvalidQuery):
            return bad_query_response(request, exception)
        return None


def _without(request: HttpRequest, name: str) -> str:
    params = request.GET.copy()
    params.pop(name, None)
    query = params.urlencode()
    return request.path + (f"?{query}" if query else "")


def _navigation(request: HttpRequest) -> dict:
    """The tenant or entity of the path, for the page's navigation, when the user may see it."""
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    user = request.user
    context = {"tenant": None, "entity": None, "user_tenants": []}
    if not user.is_authenticated:
        return context
    context["user_tenants"] = list(tenants_for(user)[:50])
    try:
        if "entity_id" in kwargs:
            context["entity"] = entity_for(user, kwargs["entity_id"])
            context["tenant"] = context["entity"].tenant
        elif "tenant_id" in kwargs:
            context["tenant"] = tenant_for(user, kwargs["tenant_id"])
    except (Http404, OverflowError):
        pass
    return context


def bad_query_response(request: HttpRequest, error: InvalidQuery) -> HttpResponse:
    context = {**_navigation(request), "error": error, "nav": "", "retry_url": _without(request, error.name)}
    response = TemplateResponse(request, "dashboard/bad_query.html", context, status=400)
    return response.render()
