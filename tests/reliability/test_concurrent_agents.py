"""Sixteen agents recording overlapping facts to one entity at once, augmented by two worker
processes, with recalls running meanwhile: nothing lost, nothing duplicated, every contributor kept."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict

import pytest

from memory.extraction.normalize import content_hash
from memory.models import AugmentationJob, Exchange, Memory
from tests.factories import make_api_key
from tests.reliability.web_process import request, wait_until
from tests.support.worker import running_workers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

AGENTS = 16
EXCHANGES_PER_AGENT = 3
SHARED_FACTS = [
    "The project uses PostgreSQL for storage.",
    "Passwords are hashed with bcrypt.",
    "Deployments run on Kubernetes in eu-west-1.",
    "Invoices are sent on the first day of each month.",
    "The frontend is written in TypeScript.",
    "The public API uses JWT tokens for authentication.",
]


@pytest.fixture
def workers(django_db_setup):
    with running_workers() as pool:
        yield pool


def _facts_of(agent: int, turn: int) -> list[str]:
    """Each exchange names two shared facts (overlapping across agents) and one of its own."""
    first = SHARED_FACTS[(agent + turn) % len(SHARED_FACTS)]
    second = SHARED_FACTS[(agent * 2 + turn + 1) % len(SHARED_FACTS)]
    own = f"Agent number {agent} finished task number {turn} of the migration plan."
    return sorted({first, second}) + [own]


def test_sixteen_agents_at_once_lose_and_duplicate_nothing(live_server, tenant, workers):
    _, api_key = make_api_key(tenant)
    workers.start(concurrency=1)
    workers.start(concurrency=1)
    base = live_server.url
    expected_contributors: dict[str, set[str]] = defaultdict(set)
    expected_mentions: dict[str, int] = defaultdict(int)
    failures: list[str] = []
    recall_statuses: list[int] = []
    stop_recalls = threading.Event()

    def agent(index: int) -> None:
        session = str(uuid.uuid4())
        for turn in range(EXCHANGES_PER_AGENT):
            body = {
                "entity_id": "project_alpha",
                "process_id": f"agent_{index:02d}",
                "session_id": session,
                "idempotency_key": f"agent-{index}-turn-{turn}",
                "messages": [
                    {"role": "user", "content": " ".join(_facts_of(index, turn))},
                    {"role": "assistant", "content": "Noted."},
                ],
            }
            status, payload = request("POST", base + "/api/v1/exchanges/", body, api_key)
            if status != 201:
                failures.append(f"agent {index} turn {turn}: {status} {payload}")

    def recaller() -> None:
        while not stop_recalls.is_set():
            body = {"entity_id": "project_alpha", "process_id": "observer", "query": "database and passwords"}
            status, payload = request("POST", base + "/api/v1/recall/", body, api_key)
            recall_statuses.append(status)
            if status == 200 and any(not item["content"] for item in payload["items"]):
                failures.append(f"half-written memory in recall: {payload['items']}")

    for index in range(AGENTS):
        for turn in range(EXCHANGES_PER_AGENT):
            for fact in _facts_of(index, turn):
                expected_contributors[fact].add(f"agent_{index:02d}")
                expected_mentions[fact] += 1
    recall_thread = threading.Thread(target=recaller)
    recall_thread.start()
    threads = [threading.Thread(target=agent, args=(index,)) for index in range(AGENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    all_done = wait_until(
        lambda: not AugmentationJob.objects.exclude(status=AugmentationJob.Status.DONE).exists(), timeout=120
    )
    stop_recalls.set()
    recall_thread.join()

    assert failures == []
    assert all_done, list(AugmentationJob.objects.values_list("status", "error"))
    assert Exchange.objects.filter(entity__external_id="project_alpha").count() == AGENTS * EXCHANGES_PER_AGENT
    assert recall_statuses and set(recall_statuses) == {200}
    for fact, mentions in expected_mentions.items():
        memory = Memory.objects.get(entity__external_id="project_alpha", content_hash=content_hash(fact))
        assert memory.mention_count == mentions, fact
        contributors = set(memory.mentions.values_list("process__external_id", flat=True))
        assert contributors == expected_contributors[fact], fact
