"""Health for load balancers: no key needed; 503 when the broker (or database) is unreachable."""

from __future__ import annotations

from rest_framework.test import APIClient


def test_it_is_healthy_without_an_api_key(db):
    response = APIClient().get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True}


def test_an_unreachable_broker_is_503(db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = APIClient().get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["broker"] is False and response.json()["database"] is True
