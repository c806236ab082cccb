"""The OpenAPI schema is served and valid, the docs need no CDN, and schemathesis finds no 5xx and
no response that breaks the schema (a bounded number of generated requests per operation)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import make_api_key

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_schema_is_served_without_a_key_and_lists_every_endpoint(db):
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/exchanges/", "/api/v1/recall/", "/api/v1/jobs/", "/api/v1/memories/", "/api/v1/health/"):
        assert path in schema["paths"], path
    errors = schema["paths"]["/api/v1/exchanges/"]["post"]["responses"]
    assert {"400", "401", "403", "429", "503"} <= set(errors)


def test_the_docs_page_loads_its_assets_locally(db):
    client = APIClient()
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/docs/assets/../settings.py").status_code == 404


@pytest.fixture
def fuzz_key(tenant, settings):
    settings.MEMORI_JOBS_MAX_WAIT_SECONDS = 0.2  # generated ?wait= values must not hold each request 30 s
    # Like Django's test client: keep the WSGI handler from closing the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield make_api_key(tenant, name="fuzz")[1]
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_generated_requests_get_no_5xx_and_match_the_schema(case, fuzz_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_key}"}, checks=CHECKS)
