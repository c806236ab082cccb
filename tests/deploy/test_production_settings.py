"""The production environment the README documents passes `manage.py check --deploy`, and the HTTPS
protections it turns on leave the health check reachable over plain HTTP for load balancers."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

from django.test import Client, override_settings

from tests.support.slow_clients import ROOT


def _documented_environment() -> dict[str, str]:
    """The variables of the first code block of the README's Production section."""
    production = (ROOT / "README.md").read_text().split("\n## Production\n", 1)[1]
    block = production.split("```bash\n", 1)[1].split("```", 1)[0]
    env = {}
    for line in block.splitlines():
        if match := re.match(r"^([A-Z_]+)=(\S*)", line):
            env[match[1]] = match[2]
    env["SECRET_KEY"] = secrets.token_urlsafe(50)  # the README says how to make one
    return env


def test_check_deploy_is_clean_with_the_documented_environment(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MEMORI_VAR_DIR": str(tmp_path)}
    env.update(_documented_environment())
    assert env["DEBUG"] == "0"

    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_plain_http_is_redirected_except_the_health_check(db):
    client = Client()
    login = client.get("/login/")
    assert login.status_code == 301 and login["Location"].startswith("https://")
    assert client.get("/login/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
    assert client.get("/api/v1/health/").status_code in (200, 503)  # answered, not redirected
