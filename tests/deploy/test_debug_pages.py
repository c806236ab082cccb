"""Django's debug error page (DEBUG on) shows settings, the request's environment and local variables:
credentials in them are masked, passwords inside connection URLs included."""

from __future__ import annotations

import sys

from django.test import RequestFactory, override_settings
from django.views.debug import technical_500_response

from memori_site.debug import mask_credentials

DATABASE_URL = "postgres://memori:db-hunter2@db.internal:5432/memori"
BROKER_URL = "redis://:broker-hunter2@redis.internal:6379/0"
CACHE_URL = "rediss://default:cache-hunter2@cache.internal:6380/1"


@override_settings(
    DEBUG=True,
    DATABASE_URL=DATABASE_URL,
    CELERY_BROKER_URL=BROKER_URL,
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": CACHE_URL}},
    MEMORI_LLM_API_KEY="sk-llm-hunter2",
    MEMORI_LLM_BASE_URL="https://llm.internal/v1?api_key=llm-url-hunter2",
)
def test_the_debug_page_masks_every_credential():
    page = _error_page(DATABASE_URL, DATABASE_URL=DATABASE_URL, HTTP_AUTHORIZATION="Bearer header-hunter2")

    assert "the page broke" in page  # it is the debug page
    assert "hunter2" not in page
    assert "db.internal:5432/memori" in page  # the rest of the URL still helps debugging
    assert "redis.internal:6379" in page


def test_mask_credentials_keeps_urls_without_secrets():
    masked = "amqp://guest:********************@127.0.0.1:5672//"
    assert mask_credentials("amqp://guest:guest@127.0.0.1:5672//") == masked
    assert mask_credentials("sqlite:////var/memori.sqlite3") == "sqlite:////var/memori.sqlite3"
    assert mask_credentials("http://127.0.0.1:8000/?page=2") == "http://127.0.0.1:8000/?page=2"


def _error_page(connection_url: str, **environ) -> str:
    """The debug page for an exception raised here, with the URL as a local variable of the failing
    frame (away from the secrets above: the page also shows the source lines around the raise)."""
    request = RequestFactory().get("/tenants/1/", **environ)
    try:
        raise RuntimeError(f"the page broke while connecting (len {len(connection_url)})")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()
