"""The web server as bin/run starts it (memori_site/gunicorn.py) keeps answering while slow clients
hold connections open, and still serves trickled, chunked and kept-alive requests whole."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time

import pytest

from memori_site.gunicorn_worker import request_complete
from tests.support.slow_clients import (
    CONFIGURED,
    ROOT,
    held_for,
    login_page_times,
    server_environment,
    short_bodies,
    slowloris,
    web_server,
)

READ_TIMEOUT = "3"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("web")
    with web_server(CONFIGURED, var_dir, MEMORI_REQUEST_READ_TIMEOUT=READ_TIMEOUT) as url:
        yield url, var_dir


def _api_key(var_dir) -> str:
    env = server_environment(var_dir)
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--tenant", "acme", "--name", "slow"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()[-1]


def _connection(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


@pytest.mark.slow
def test_the_login_page_answers_while_64_slow_clients_hold_connections(server):
    url, _ = server
    opened = time.monotonic()
    with slowloris(url, 32), short_bodies(url, 32) as stalled:
        times = login_page_times(url, 5, timeout=10)
        _, answer = held_for(stalled[0], 60, since=opened)

    assert None not in times  # every request answered, none past the client's 10 s
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")  # the stalled POST was told, then closed


@pytest.mark.slow
def test_a_trickled_body_is_received_whole(server):
    url, var_dir = server
    key = _api_key(var_dir)
    content = "The customer pays with a Visa card. " * 5_000  # 180,000 characters a message, ~1 MB in all
    body = json.dumps(
        {
            "entity_id": "customer_456",
            "process_id": "triage_agent",
            "idempotency_key": "trickled-1",
            "messages": [{"role": role, "content": content} for role in ["user", "assistant"] * 3],
        }
    ).encode()
    connection = _connection(url)
    connection.putrequest("POST", "/api/v1/exchanges/")
    for name, value in {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {key}",
        "Content-Length": str(len(body)),
    }.items():
        connection.putheader(name, value)
    connection.endheaders()
    step = len(body) // 8
    for start in range(0, len(body), step):
        connection.send(body[start : start + step])
        time.sleep(0.2)
    response = connection.getresponse()

    assert response.status == 201, response.read()[:500]
    assert json.loads(response.read())["exchange_id"]


@pytest.mark.slow
def test_kept_alive_and_chunked_requests_are_served(server):
    url, _ = server
    connection = _connection(url)
    for _ in range(3):  # one connection, three requests
        connection.request("GET", "/api/v1/health/")
        response = connection.getresponse()
        assert response.status == 200
        response.read()
    chunks = iter([b'{"entity_id": "e", ', b'"query": "q"}'])
    connection.request("POST", "/api/v1/recall/", body=chunks, headers={"Content-Type": "application/json"})
    assert connection.getresponse().status in (401, 403)  # parsed and answered: no key


def test_a_request_is_complete_when_its_announced_body_has_arrived():
    head = b"POST /api/v1/exchanges/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    assert not request_complete(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert request_complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not request_complete(head + b"abc")
    assert request_complete(head + b"abcde")
    chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
    assert not request_complete(chunked)
    assert request_complete(chunked + b"0\r\n\r\n")
    assert request_complete(b"POST / HTTP/1.1\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n")
