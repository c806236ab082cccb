"""Brute force on the two login pages: after the limit of wrong passwords, even the right one is refused
for the cool-off, and the page says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

LOGIN_PAGES = ["/login/", "/admin/login/"]


@pytest.fixture
def lead(db, django_user_model):
    return django_user_model.objects.create_user(username="lead", password="lead-pass-1", is_staff=True)


def _login(client, url: str, password: str, username: str = "lead"):
    return client.post(url, {"username": username, "password": password})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_after_the_limit_the_right_password_is_refused_and_the_page_says_why(client, lead, url):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, url, "wrong").status_code == 200  # the form again, with its error
    locked = _login(client, url, "wrong")
    assert locked.status_code == 429

    refused = _login(client, url, "lead-pass-1")

    assert refused.status_code == 429
    assert not _logged_in(client)
    text = refused.content.decode()
    assert "Too many failed logins" in text
    assert f"refused for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in text


def test_the_lock_holds_on_both_pages_and_ends_after_the_cool_off(client, lead):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "/login/", "wrong")
    assert _login(client, "/admin/login/", "lead-pass-1").status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert _login(client, "/login/", "lead-pass-1").status_code == 302
    assert _logged_in(client)


def test_a_success_before_the_limit_clears_the_count(client, lead):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "/login/", "wrong")
    assert _login(client, "/login/", "lead-pass-1").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "/login/", "wrong")
    assert _login(client, "/login/", "lead-pass-1").status_code == 302


def test_another_username_from_the_same_address_is_not_locked(client, lead, django_user_model):
    django_user_model.objects.create_user(username="operator", password="operator-pass-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "/login/", "wrong")
    assert _login(client, "/login/", "operator-pass-1", username="operator").status_code == 302
