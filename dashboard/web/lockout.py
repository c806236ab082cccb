"""The page a login gets once django-axes has locked its username and address out (HTTP 429)."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """Says why the login was refused and for how long, on the dashboard's login page or the admin's."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT, "user_tenants": []}
    return render(request, "dashboard/locked_out.html", context, status=429)
