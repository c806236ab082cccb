"""The OpenAPI schema is served and valid, the docs need no CDN, and schemathesis, against a live
server with a real API key, finds no server error and no disagreement between schema and server:
every status code, content type and response body is the one the schema declares, and every request
the schema allows is accepted (a bounded, deterministic number of generated requests per operation)."""

from __future__ import annotations

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from memory.services.audit import Actor
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from memory.services.remembering import memory_get_or_create
from tests.factories import make_api_key

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]
# Per operation; with the coverage phase's boundary cases, about 1,500 requests in all (1-2 minutes).
MAX_EXAMPLES = 25
SEED = 16


def test_the_schema_is_served_without_a_key_and_lists_every_endpoint(db):
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/exchanges/", "/api/v1/recall/", "/api/v1/jobs/", "/api/v1/memories/", "/api/v1/health/"):
        assert path in schema["paths"], path
    errors = schema["paths"]["/api/v1/exchanges/"]["post"]["responses"]
    assert {"400", "401", "403", "409", "413", "429", "503"} <= set(errors)
    assert "403" not in schema["paths"]["/api/v1/recall/"]["post"]["responses"]  # read-only keys may recall
    assert "413" not in schema["paths"]["/api/v1/memories/"]["get"]["responses"]  # no body


def test_the_docs_page_loads_its_assets_locally(db):
    client = APIClient()
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/docs/assets/../settings.py").status_code == 404


@pytest.fixture
def fuzz_key(live_server, django_db_reset_sequences, tenant, settings) -> str:
    """A real read-write key, and rows for the generated ids to find: ids from 1 (sequences reset)
    and "0", the first id generated (memories, an exchange with a blank tool message, a job)."""
    settings.MEMORI_JOBS_MAX_WAIT_SECONDS = 0.2  # generated ?wait= values must not hold each request 30 s
    api_key, raw_key = make_api_key(tenant, name="fuzz")
    for content in ("The customer uses PostgreSQL 16 for billing.", "The invoice INV-7 is due on 5 March."):
        memory_get_or_create(
            tenant=tenant, entity_id="0", kind="fact", content=content, actor=Actor.from_api_key(api_key)
        )
    messages = [MessageInput(role="user", content="I was charged twice."), MessageInput(role="tool", content="")]
    record_exchange(tenant=tenant, data=ExchangeInput(entity_id="0", process_id="0", messages=messages))
    return raw_key


def _served_schema() -> dict:
    """The schema the server serves (read in process at collection, when no server runs yet)."""
    return Client().get("/api/v1/schema/?format=json").json()


# NUL is refused in every text field (PostgreSQL cannot store it): the text fields declare it in their
# pattern, but free-form JSON (tool calls, content parts) cannot, so none is generated.
CONFIG = {"seed": SEED, "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "allow-x00": False}}
schema = schemathesis.openapi.from_dict(_served_schema(), config=SchemathesisConfig.from_dict(CONFIG))


# An import document's cross-references (memory refs, exchange refs, attributes and their process) are
# beyond JSON Schema: a generated document is mostly refused with a 400 saying which reference is wrong.
# The import is still checked for server errors, status codes, content types and response bodies.
BEYOND_THE_SCHEMA = {("POST", "/api/v1/entities/import/"): [positive_data_acceptance]}


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_generated_requests_get_no_server_error_and_agree_with_the_schema(case, live_server, fuzz_key):
    skipped = BEYOND_THE_SCHEMA.get((case.method, case.path), [])
    checks = [check for check in CHECKS if check not in skipped]
    headers = {"Authorization": f"Bearer {fuzz_key}"}
    # A generated import of 500 exchanges, on a loaded CI machine, takes longer than the default 10 s.
    case.call_and_validate(base_url=live_server.url, headers=headers, checks=checks, timeout=120)
