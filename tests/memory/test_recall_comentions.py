"""Co-mentions: memories extracted from the same exchange are recalled together.

The product promise behind it (seed sample uc3_dev_team.py): the coder reports that user
authentication uses JWT tokens and that passwords are hashed with bcrypt, and the reviewer, asking
to "Review the authentication implementation.", recalls both JWT tokens and bcrypt, also once
augmentation has finished and the raw exchange is no longer served as pending context. Exchanges
are recorded and augmented inline, as the Celery task does, an hour ago: older than the handoff
window, so only relevance and co-mentions decide (recent handoffs are test_recall_handoff.py's
subject). The test line extractor says exactly which memories each exchange yields.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memory.services.augmentation import job_augment
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput, record_exchange

pytestmark = pytest.mark.django_db

REPO = "repo_myapp"
DECISIONS = "fact: User authentication uses JWT tokens\nfact: Passwords are hashed with bcrypt"
SERVERS = "fact: The staging server runs Ubuntu 22.04\nfact: Backups are copied to S3 every night"


@pytest.fixture(autouse=True)
def line_extractor(settings):
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"
    settings.MEMORI_RECALL_FRESH_WEIGHT = 0  # an hour old: only relevance and co-mentions decide here


def say(tenant, process_id: str, text: str) -> None:
    """One agent's exchange, recorded and fully augmented (what `mem.augmentation.wait()` waits for)."""
    recorded = record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=REPO,
            process_id=process_id,
            messages=[MessageInput(role="user", content=text)],
            occurred_at=timezone.now() - timedelta(hours=1),
        ),
    )
    assert job_augment(recorded.job.pk).status == "done"


def recall(tenant, process_id: str, query: str):
    return recall_for_call(RecallRequest(tenant=tenant, entity_id=REPO, process_id=process_id, query=query))


def test_the_reviewer_recalls_every_decision_the_coder_made_in_one_exchange(tenant):
    say(tenant, "coder_agent", DECISIONS)

    result = recall(tenant, "reviewer_agent", "Review the authentication implementation.")

    assert result.pending == []  # augmented: only memories are served
    assert "JWT tokens" in result.block and "bcrypt" in result.block
    assert any("bcrypt" in item.content for item in result.items)


def test_a_co_mentioned_memory_is_marked_and_ranked_below_the_memory_that_brought_it(tenant):
    say(tenant, "coder_agent", DECISIONS)

    items = recall(tenant, "reviewer_agent", "Review the authentication implementation.").items

    jwt = next(item for item in items if item.content == "User authentication uses JWT tokens")
    bcrypt = next(item for item in items if item.content == "Passwords are hashed with bcrypt")
    assert jwt.via is None
    assert bcrypt.via is not None and bcrypt.via.startswith("co-mentioned with ")
    assert bcrypt.score < jwt.score
    assert items.index(bcrypt) > items.index(jwt)


def test_memories_from_an_unrelated_exchange_are_still_left_out(tenant):
    say(tenant, "ops_agent", SERVERS)
    recall(tenant, "reviewer_agent", "Review the authentication implementation.")  # a warm cache, then a new write
    say(tenant, "coder_agent", DECISIONS)

    result = recall(tenant, "reviewer_agent", "Review the authentication implementation.")

    assert "bcrypt" in result.block
    assert "Ubuntu" not in result.block and "Backups" not in result.block


def test_a_co_mentioned_memory_never_joins_when_its_exchange_matched_nothing(tenant):
    say(tenant, "coder_agent", DECISIONS)

    result = recall(tenant, "reviewer_agent", "Which operating system does the staging server run?")

    assert "bcrypt" not in result.block and "JWT" not in result.block
