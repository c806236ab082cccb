"""What the injected block says about each recalled memory: when it was said (the original time of
an imported conversation, not the import time).

Conversations are LoCoMo's conversation 0 (Caroline and Melanie, May-June 2023), imported with
their original times and augmented inline with the configured extractor, as the Celery task does.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from memory.models import Entity, Process
from memory.services.augmentation import augment_job
from memory.services.bulk_import import exchanges_import
from memory.services.embedding_store import bump_memory_version
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput
from memory.services.storing import Mention, memory_upsert

pytestmark = pytest.mark.django_db

CONVERSATION = "conv-26"
SUPPORT_GROUP = "Caroline: I went to a LGBTQ support group yesterday and it was so powerful."
CHARITY_RACE = "Melanie: I ran a charity race for mental health last Saturday, it was really rewarding."


def imported(tenant, *turns: tuple[str, datetime], with_occurred_at: bool = True) -> None:
    """Import past turns (speaker's words, original time) and augment them inline."""
    items = [
        ExchangeInput(
            entity_id=CONVERSATION,
            process_id=text.split(":")[0],
            messages=[MessageInput(role="user", content=text, created_at=None if with_occurred_at else at)],
            occurred_at=at if with_occurred_at else None,
        )
        for text, at in turns
    ]
    for recorded in exchanges_import(tenant=tenant, items=items):
        assert augment_job(recorded.job.pk).status == "done"


def recall(tenant, query: str, **options):
    return recall_for_call(
        RecallRequest(tenant=tenant, entity_id=CONVERSATION, process_id="questioner", query=query, **options)
    )


def line_with(block: str, words: str) -> str:
    lines = [line for line in block.splitlines() if line.startswith("- ") and words in line]
    assert lines, f"no line with {words!r} in:\n{block}"
    return lines[0]


def today() -> str:
    now = timezone.now()
    return f"{now.day} {now:%B %Y}"


@pytest.mark.parametrize("with_occurred_at", [True, False], ids=["exchange time", "message times"])
def test_each_line_says_the_day_its_conversation_happened_not_the_import_day(tenant, with_occurred_at):
    imported(
        tenant,
        (SUPPORT_GROUP, datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        (CHARITY_RACE, datetime(2023, 5, 25, 13, 14, tzinfo=UTC)),
        with_occurred_at=with_occurred_at,
    )

    group = recall(tenant, "When did Caroline go to the LGBTQ support group?")
    race = recall(tenant, "When did Melanie run a charity race?")

    assert line_with(group.block, "support group").startswith("- [8 May 2023] ")
    assert line_with(race.block, "charity race").startswith("- [25 May 2023] ")
    for block in (group.block, race.block):
        dated = [line for line in block.splitlines() if line.startswith("- ")]
        assert dated and all(line.startswith(("- [8 May 2023] ", "- [25 May 2023] ")) for line in dated)
        assert today() not in block


def test_a_memory_said_on_several_days_carries_the_day_it_was_first_said(tenant):
    entity = Entity.objects.create(tenant=tenant, external_id=CONVERSATION)
    caroline = Process.objects.create(tenant=tenant, external_id="Caroline")
    for day in (datetime(2023, 5, 8, tzinfo=UTC), datetime(2023, 6, 9, tzinfo=UTC)):
        memory_upsert(
            entity=entity,
            kind="fact",
            content="Caroline goes to a LGBTQ support group",
            mention=Mention(process=caroline, mentioned_at=day),
        )
    bump_memory_version(entity.pk)

    result = recall(tenant, "LGBTQ support group")

    line = line_with(result.block, "support group")
    assert line == "- [8 May 2023] Caroline goes to a LGBTQ support group [Caroline]"
