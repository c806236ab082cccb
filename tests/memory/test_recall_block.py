"""What the injected block says about each recalled memory: when it was said (the original time of
an imported conversation, not the import time); and what it leaves out: a triple beside the memory
that already states it.

Conversations are from LoCoMo's conversation 0 (Caroline and Melanie, May-June 2023), imported with
their original times and augmented inline as the Celery task does, with the test line extractor
(it says exactly which memories a turn yields; the offline extractor has its own tests).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from memory.models import Entity, Process
from memory.services.augmentation import job_augment
from memory.services.bulk_import import exchanges_import
from memory.services.embedding_store import bump_memory_version
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput
from memory.services.storing import Mention, memory_mention, triple_mention

pytestmark = pytest.mark.django_db

CONVERSATION = "conv-26"
SUPPORT_GROUP = "Caroline: fact: Caroline went to a LGBTQ support group yesterday and it was so powerful"
CHARITY_RACE = "Melanie: fact: Melanie ran a charity race for mental health last Saturday"


@pytest.fixture(autouse=True)
def line_extractor(settings):
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"


def imported(tenant, *turns: tuple[str, datetime], with_occurred_at: bool = True) -> None:
    """Import past turns (speaker's words, original time) and augment them inline."""
    items = [
        ExchangeInput(
            entity_id=CONVERSATION,
            process_id=text.split(":")[0],
            messages=[
                MessageInput(role="user", content=text.split(": ", 1)[1], created_at=None if with_occurred_at else at)
            ],
            occurred_at=at if with_occurred_at else None,
        )
        for text, at in turns
    ]
    for recorded in exchanges_import(tenant=tenant, items=items):
        assert job_augment(recorded.job.pk).status == "done"


def recall(tenant, query: str, **options):
    return recall_for_call(
        RecallRequest(tenant=tenant, entity_id=CONVERSATION, process_id="questioner", query=query, **options)
    )


def line_with(block: str, words: str) -> str:
    lines = [line for line in block.splitlines() if line.startswith("- ") and words in line]
    assert lines, f"no line with {words!r} in:\n{block}"
    return lines[0]


def said(tenant, process_id: str, content: str, *, on: datetime, kind: str = "fact"):
    """One memory of the conversation, first said on `on`, stored as augmentation stores it."""
    entity, _ = Entity.objects.get_or_create(tenant=tenant, external_id=CONVERSATION)
    process, _ = Process.objects.get_or_create(tenant=tenant, external_id=process_id)
    stored = memory_mention(
        entity=entity, kind=kind, content=content, mention=Mention(process=process, mentioned_at=on)
    )
    bump_memory_version(entity.pk)
    return stored.obj


def related(tenant, process_id: str, subject: str, predicate: str, obj: str, *, on: datetime):
    entity, _ = Entity.objects.get_or_create(tenant=tenant, external_id=CONVERSATION)
    process, _ = Process.objects.get_or_create(tenant=tenant, external_id=process_id)
    stored = triple_mention(
        entity=entity, subject=subject, predicate=predicate, obj=obj, mention=Mention(process=process, mentioned_at=on)
    )
    bump_memory_version(entity.pk)
    return stored.obj


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
    for day in (datetime(2023, 5, 8, tzinfo=UTC), datetime(2023, 6, 9, tzinfo=UTC)):
        said(tenant, "Caroline", "Caroline goes to a LGBTQ support group", on=day)

    result = recall(tenant, "LGBTQ support group")

    line = line_with(result.block, "support group")
    assert line == "- [8 May 2023] Caroline goes to a LGBTQ support group [Caroline]"


JULY = datetime(2023, 7, 15, 14, 0, tzinfo=UTC)
BIRTHDAY = "Melanie celebrated her daughter's birthday with a concert"


def test_a_triple_that_restates_a_memory_of_the_block_is_left_out_and_its_place_refilled(tenant):
    said(tenant, "Melanie", BIRTHDAY, on=JULY)
    related(tenant, "Melanie", "Melanie", "celebrated", "her daughter's birthday", on=JULY)
    related(tenant, "Melanie", "Melanie", "celebrated", "daughter's birthday with a concert", on=JULY)
    said(tenant, "Melanie", "Melanie took her kids to a concert in the park", on=JULY)

    result = recall(tenant, "How did Melanie celebrate her daughter's birthday?", limit=2)

    assert [item.content for item in result.items] == [BIRTHDAY, "Melanie took her kids to a concert in the park"]
    assert "## Knowledge graph" not in result.block


def test_a_list_member_edge_restates_the_sentence_listing_it(tenant):
    listing = "The top competitors are Mem0, Zep, Letta and LangMem"
    said(tenant, "research_agent", listing, on=JULY)
    related(tenant, "research_agent", "top competitors", "includes", "Letta", on=JULY)

    result = recall(tenant, "Who are the top competitors, Letta included?")

    assert line_with(result.block, "Letta") == f"- [15 July 2023] {listing} [research_agent]"
    assert "## Knowledge graph" not in result.block


def test_a_triple_with_a_word_no_memory_line_says_stays(tenant):
    said(tenant, "Melanie", BIRTHDAY, on=JULY)
    related(tenant, "Melanie", "Melanie", "plays", "the clarinet", on=JULY)

    result = recall(tenant, "What does Melanie play, and how did she celebrate the birthday?")

    assert line_with(result.block, "clarinet") == "- [15 July 2023] Melanie plays the clarinet [Melanie]"
    assert line_with(result.block, "birthday") == f"- [15 July 2023] {BIRTHDAY} [Melanie]"


def test_the_memory_that_restates_a_higher_ranked_triple_takes_its_place(tenant):
    from memory.recall.compose import without_restated_triples
    from memory.recall.index import IndexKey, build_entity_index
    from memory.recall.ranking import Ranked

    birthday = said(tenant, "Melanie", BIRTHDAY, on=JULY)
    triple = related(tenant, "Melanie", "Melanie", "celebrated", "her daughter's birthday", on=JULY)
    park = said(tenant, "Melanie", "Melanie took her kids to a concert in the park", on=JULY)
    clarinet = related(tenant, "Melanie", "Melanie", "plays", "the clarinet", on=JULY)
    entity = Entity.objects.get(external_id=CONVERSATION)
    index = build_entity_index(IndexKey(entity.pk, entity.created_at, entity.memory_version, "static-test"))
    row = {(index.kinds[r] == 4, int(index.ids[r])): r for r in range(index.size)}
    ranked = [
        Ranked(row=row[True, triple.pk], dense=0.6, lexical=4.0, fused=0.8),
        Ranked(row=row[True, clarinet.pk], dense=0.4, lexical=0.0, fused=0.5),
        Ranked(row=row[False, park.pk], dense=0.4, lexical=1.0, fused=0.45),
        Ranked(row=row[False, birthday.pk], dense=0.5, lexical=2.0, fused=0.4),
    ]

    kept = without_restated_triples(index, ranked)

    assert [int(index.ids[r.row]) for r in kept] == [birthday.pk, clarinet.pk, park.pk]


def test_without_an_item_limit_the_token_budget_decides_how_full_the_block_is(tenant):
    for number in range(60):
        said(tenant, "Melanie", f"Melanie painted picture number {number} of the lake at sunrise", on=JULY)

    result = recall(tenant, "Which pictures did Melanie paint of the lake?", token_budget=500)
    capped = recall(tenant, "Which pictures did Melanie paint of the lake?", token_budget=500, limit=5)

    assert len(result.items) > 20 and 500 - 30 < result.token_count <= 500
    assert len(capped.items) == 5
