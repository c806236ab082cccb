"""The offline rules extractor: what a memory is, on real sentences (LoCoMo conversations, the seed
samples' messages, a support handoff) — self-contained statements that name their subject, no
chit-chat, triples between noun phrases, relative dates resolved, and claims that a later value
supersedes."""

import json
import logging
import re
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memory.extraction.relative_dates import resolve_relative_dates
from memory.extraction.rules import MAX_CONTENT_CHARS, MAX_MEMORIES, MAX_TRIPLES, RulesExtractor, extract
from memory.extraction.types import ExchangeInput, ExchangeMessage, Extraction, Extractor, RelatedMemory, StateClaim

LOCOMO = Path(__file__).resolve().parents[3] / "shared" / "locomo" / "locomo_conv0-4.json"
SAID_AT = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)  # a Monday
FIRST_PERSON = re.compile(r"\b(?:I|me|my|mine|myself|we|us|our|ours)\b", re.IGNORECASE)


def _exchange(*messages: tuple[str, str], process: str = "research_agent", at=SAID_AT) -> ExchangeInput:
    numbered = tuple(ExchangeMessage(position, role, text) for position, (role, text) in enumerate(messages))
    return ExchangeInput(entity_id="project_alpha", process_id=process, messages=numbered, occurred_at=at)


def _said(text: str, role: str = "user", process: str | None = None) -> Extraction:
    """One message; a "Name: ..." line is recorded by that speaker's process, as LoCoMo is."""
    label = re.match(r"^([A-Z][a-z]+): ", text)
    return extract(_exchange((role, text), process=process or (label[1] if label else "research_agent")))


def _contents(extraction: Extraction, kind: str | None = None) -> list[str]:
    return [memory.content for memory in extraction.memories if kind is None or memory.kind == kind]


def _edges(extraction: Extraction) -> set[tuple[str, str, str]]:
    return {(t.subject, t.predicate, t.object) for t in extraction.triples}


def test_the_rules_extractor_is_an_extractor_named_rules():
    extractor = RulesExtractor()
    exchange = _exchange(("user", "Our API uses JWT tokens for authentication."))

    assert isinstance(extractor, Extractor)
    assert extractor.name == "rules"
    assert extractor(exchange, []) == extract(exchange)


# --- A memory names its subject and keeps its meaning ------------------------------------------


def test_a_named_speakers_first_person_becomes_their_name_and_yesterday_a_date():
    extraction = _said("Melanie: Yesterday we celebrated my daughter's birthday with a concert! It was so fun.")

    assert _contents(extraction) == [
        "Yesterday (7 May 2023) Melanie celebrated their daughter's birthday with a concert."
    ]
    assert ("Melanie", "celebrated", "Melanie's daughter's birthday") in _edges(extraction)


def test_a_possessive_names_the_speaker_unless_the_sentence_already_did():
    assert _contents(_said("Melanie: My daughter turned five last week.")) == [
        "Melanie's daughter turned five last week (the week before 8 May 2023)."
    ]
    assert _contents(_said("I can't access my account and I was charged twice on my card.")) == [
        "The user can not access their account and the user was charged twice on their card."
    ]


def test_the_verb_agrees_with_the_named_subject():
    extraction = _said("Caroline: I've been researching adoption agencies, and I love how supportive they are.")

    assert "Caroline has been researching adoption agencies." in _contents(extraction)[0] or _contents(extraction)[
        0
    ].startswith("Caroline has been researching adoption agencies")
    assert not any(FIRST_PERSON.search(content) for content in _contents(extraction))


def test_a_user_without_a_name_is_the_user_and_im_dana_is_their_name():
    extraction = _said("Hi, I'm Dana. I was charged $49 twice this month for my Pro plan.", process="triage_agent")

    assert _contents(extraction) == [
        "The user's name is Dana.",
        "The user was charged $49 twice this month (May 2023) for their Pro plan.",
    ]
    assert extraction.memories[0].claim == StateClaim("user", "be", "Dana", "name")
    assert not any("user'm" in content or "I'm" in content for content in _contents(extraction))


def test_the_agents_reply_speaks_of_the_agent_by_its_process_and_of_you_as_the_user():
    extraction = _said(
        "I checked the billing logs: your card was charged twice on March 3. I refunded the duplicate charge.",
        role="assistant",
        process="billing_agent",
    )

    assert _contents(extraction) == [
        "billing_agent checked the billing logs: the user's card was charged twice on March 3.",
        "billing_agent refunded the duplicate charge.",
    ]


def test_a_label_is_a_speaker_only_when_it_names_someone():
    assert _contents(_said("Dana: I was charged twice for my plan.", process="triage_agent")) == [
        "Dana was charged twice for their plan."
    ]
    assert _contents(_said("Note: I prefer email over phone calls.", process="triage_agent")) == [
        "The user prefers email over phone calls."
    ]


def test_sentences_about_an_unnamed_you_or_an_unresolved_it_are_not_kept():
    extraction = _said(
        "Melanie: You should totally go for it! It was so powerful. They really liven up the house. "
        "I took my kids to the museum while you were at the parade."
    )

    assert _contents(extraction) == ["Melanie took their kids to the museum."]


# --- What is not memory -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Melanie: Wow, that's cool, Caroline!",
        "Caroline: Thanks, Melanie!",
        "Melanie: Absolutely!",
        "Caroline: Cool!",
        "Caroline: Since I was 17 or so.",
        "Melanie: Life sure can be a roller coaster.",
        "Caroline: I'm so proud of you!",
        "Melanie: How did the adoption meeting go?",
        "Caroline: [shares a photo: a painting of a sunset over the ocean]",
        "Research: top 5 competitors",
        "Research top 5 competitors in the AI memory market",
        "Review the authentication implementation",
        "Please summarize our findings so far.",
        "Hello! Thanks for your help, see you soon.",
    ],
)
def test_greetings_reactions_fragments_questions_captions_and_orders_are_not_memory(text):
    extraction = _said(text)

    assert extraction.memories == () and extraction.triples == ()


def test_the_assistants_chatter_and_instructions_to_the_reader_are_not_memory():
    extraction = _said(
        "Great question! I hope this helps. You can reset your password by clicking Forgot Password. "
        "Let me know if you have any other questions!",
        role="assistant",
    )

    assert extraction.memories == ()


def test_a_caption_beside_a_statement_is_left_out_of_it():
    extraction = _said("Caroline: I painted this last Friday. [shares a photo: a painting of a sunset]")

    assert extraction.memories == ()  # "this" is the photo: the sentence cannot stand alone
    extraction = _said("Caroline: I painted a sunset last Friday! [shares a photo: a painting of a sunset]")
    assert _contents(extraction) == ["Caroline painted a sunset last Friday (5 May 2023)."]


def test_on_a_locomo_conversation_no_memory_is_chit_chat_a_fragment_or_an_unresolved_i():
    if not LOCOMO.exists():
        pytest.skip("LoCoMo conversations are not beside the checkout")
    conversation = json.loads(LOCOMO.read_text(encoding="utf-8"))[0]["conversation"]
    turns = [turn for key in ("session_1", "session_2", "session_3") for turn in conversation[key]]
    extractor = RulesExtractor()
    exchanges = [_exchange(("user", f"{turn['speaker']}: {turn['text']}"), process=turn["speaker"]) for turn in turns]
    extractor.prepare(exchanges)

    memories = [memory for exchange in exchanges for memory in extractor(exchange).memories]
    triples = [triple for exchange in exchanges for triple in extractor(exchange).triples]

    assert len(memories) >= len(turns) // 3  # most turns with content give a memory
    for memory in memories:
        words = memory.content.split()
        assert len(words) > 4, memory.content
        assert not FIRST_PERSON.search(memory.content.replace("Caroline", "").replace("Melanie", "")), memory.content
        assert not re.match(r"^(?:Caroline|Melanie): ", memory.content), memory.content
        assert memory.content[0].isupper() and memory.content.endswith("."), memory.content
    reactions = {"thanks", "yeah", "bye", "wow", "cool", "nice", "awesome", "great", "you", "it", "that", "this"}
    for triple in triples:
        assert triple.subject.lower() not in reactions and triple.object.lower() not in reactions, triple


# --- The seed samples' agents -----------------------------------------------------------------


def test_a_list_of_competitors_is_kept_as_one_sentence_with_an_edge_per_name():
    extraction = extract(
        _exchange(
            ("system", "You are a research agent."),
            ("user", "Research top 5 competitors"),
            ("assistant", "The top competitors are Mem0, Zep, Letta, LangMem and Memori."),
        )
    )

    assert _contents(extraction, "fact") == ["The top competitors are Mem0, Zep, Letta, LangMem and Memori."]
    assert _contents(extraction, "attribute") == ["This agent is a research agent."]
    names = {obj for subject, predicate, obj in _edges(extraction) if subject == "top competitors"}
    assert names == {"Mem0", "Zep", "Letta", "LangMem", "Memori"}
    assert {predicate for _, predicate, _ in _edges(extraction)} == {"includes"}


def test_a_code_review_keeps_its_findings_and_drops_its_advice():
    extraction = _said(
        "The authentication module issues JWT tokens that expire after 15 minutes. "
        "Passwords are hashed with bcrypt. You should rotate the signing key.\n\n"
        "```python\nSECRET = 'x'\n```",
        role="assistant",
        process="code_reviewer",
    )

    assert _contents(extraction) == [
        "The authentication module issues JWT tokens that expire after 15 minutes.",
        "Passwords are hashed with bcrypt.",
    ]


def test_key_value_lines_and_table_rows_of_a_reply_are_facts():
    extraction = _said(
        "## Pricing\n| Vendor | Model | Starting price |\n|---|---|---|\n| Pinecone | Usage-based | $70/month |\n\n"
        "- Database: PostgreSQL",
        role="assistant",
    )

    assert _contents(extraction) == [
        "Vendor: Pinecone; Model: Usage-based; Starting price: $70/month",
        "Database: PostgreSQL",
    ]
    assert ("Database", "is", "PostgreSQL") in _edges(extraction)


def test_likes_are_preferences_abilities_skills_and_the_agents_self_description_an_attribute():
    preferences = _said("I prefer email over phone calls. I am an experienced Python developer.")
    attribute = _said("I am the billing agent for this account and I handle refunds.", role="assistant")

    assert [(m.kind, m.content) for m in preferences.memories] == [
        ("preference", "The user prefers email over phone calls."),
        ("skill", "The user is an experienced Python developer."),
    ]
    assert [m.kind for m in attribute.memories] == ["attribute"] and attribute.triples == ()


def test_what_the_agent_says_it_can_do_is_cut_out_of_a_shared_fact_and_kept_as_its_attribute():
    extraction = _said(
        "A refund was issued on March 3, and I can approve credits up to 500 euros.",
        role="assistant",
        process="billing_agent",
    )

    assert [(m.kind, m.content) for m in extraction.memories] == [
        ("fact", "A refund was issued on March 3."),
        ("attribute", "billing_agent can approve credits up to 500 euros."),
    ]


def test_our_own_injected_memory_is_not_extracted_again():
    extraction = _said(
        "<memori_context>\n- Payments go through Stripe. [billing_agent]\n</memori_context>\n"
        "Our invoices are sent on the first Monday of each month."
    )

    assert _contents(extraction) == ["The user's invoices are sent on the first Monday of each month."]


# --- Change: claims a later value supersedes --------------------------------------------------


def test_a_general_statement_is_kept_from_a_user_but_not_from_small_talk():
    assert _contents(_said("Invoices are sent on the first day of each month.")) == [
        "Invoices are sent on the first day of each month."
    ]
    assert _said("Melanie: Tough times can be a gateway to awesome things.").memories == ()


def test_a_statement_the_small_model_misparses_is_kept_as_written():
    # the tagger reads "finished" as an adjective here, leaving the sentence without a verb
    assert _contents(_said("Agent number 14 finished task number 2 of the migration plan.")) == [
        "Agent number 14 finished task number 2 of the migration plan."
    ]


def test_a_present_tense_verb_read_as_a_plural_noun_still_makes_a_statement():
    # the tagger reads "converts" as a plural noun; a finding, not small talk, keeps it
    finding = "Usage-based pricing converts better than seat licences for developer tools."
    assert _contents(_said(finding, role="assistant")) == [finding]


def test_a_short_statement_is_kept_when_it_names_something():
    assert _contents(_said("Payments go through Stripe.", role="assistant")) == ["Payments go through Stripe."]
    assert _said("Caroline: I am so happy.").memories == ()


def test_a_provider_switch_claims_the_same_subject_twice():
    before = _said("Our payments go through Stripe.")
    after = _said("We moved payments to Adyen last week.")

    assert before.memories[0].claim == StateClaim("payment", "go_through", "Stripe", "name")
    assert after.memories[0].claim == StateClaim("payment", "*", "Adyen", "name")
    assert after.memories[0].content == "The user moved payments to Adyen last week (the week before 8 May 2023)."


def test_a_moved_date_claims_the_invoice_date():
    before = _said("Your invoice date is March 5.", role="assistant", process="billing_agent")
    after = _said("We moved your invoice date to March 12.", role="assistant", process="billing_agent")

    assert before.memories[0].claim == StateClaim("invoice", "date", "March 5", "date")
    assert after.memories[0].claim == StateClaim("invoice", "*", "March 12", "date")


def test_events_and_likes_claim_nothing():
    extraction = _said("Caroline: I went to Paris in June. I love Italian food and I like Rome.")

    assert extraction.memories and all(memory.claim is None for memory in extraction.memories)


@pytest.mark.django_db
def test_through_the_pipeline_the_provider_switch_and_the_moved_date_supersede(tenant, settings):
    from memory.models import Memory
    from memory.services.augmentation import job_augment
    from tests.support.exchanges import record

    settings.MEMORI_EXTRACTOR = "rules"
    for text, day in (
        ("Our payments go through Stripe. Your invoice date is March 5.", 1),
        ("We moved payments to Adyen. We moved your invoice date to March 12.", 3),
    ):
        recorded = record(
            tenant, process="billing_agent", assistant=text, occurred_at=datetime(2026, 3, day, tzinfo=UTC)
        )
        job_augment(recorded.job.pk)

    current = set(Memory.objects.filter(valid_to__isnull=True).values_list("content", flat=True))
    superseded = dict(Memory.objects.filter(valid_to__isnull=False).values_list("content", "superseded_by__content"))
    assert superseded == {
        "billing_agent's payments go through Stripe.": "billing_agent moved payments to Adyen.",
        "The user's invoice date is March 5.": "billing_agent moved the user's invoice date to March 12.",
    }
    assert current == set(superseded.values())


# --- Relative dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("I went yesterday", "I went yesterday (7 May 2023)"),
        ("we met last Friday", "we met last Friday (5 May 2023)"),
        ("camping last week", "camping last week (the week before 8 May 2023)"),
        ("Last year I ran", "Last year (2022) I ran"),
        ("started 3 days ago", "started 3 days ago (5 May 2023)"),
        ("moving next month", "moving next month (June 2023)"),
        ("last summer in Spain", "last summer (summer 2022) in Spain"),
        ("no time words here", "no time words here"),
    ],
)
def test_relative_times_are_resolved_against_when_they_were_said(text, resolved):
    assert resolve_relative_dates(text, SAID_AT) == resolved


def test_without_a_time_nothing_is_resolved():
    assert (
        _said("Caroline: I went to a support group yesterday.").memories[0].content.endswith("yesterday (7 May 2023).")
    )
    message = ExchangeMessage(0, "user", "Caroline: I went to a support group yesterday.")
    undated = extract(ExchangeInput("e", "Caroline", (message,)))
    assert undated.memories[0].content == "Caroline went to a support group yesterday."


# --- Robustness -------------------------------------------------------------------------------


def test_the_same_statement_is_kept_once_and_output_is_capped():
    extraction = _said(" ".join(f"Service {n} runs on server {n}." for n in range(200)), role="assistant")

    assert len(extraction.memories) == MAX_MEMORIES
    assert len(_said("Our API uses JWT. Our API uses JWT.").memories) == 1


def test_it_is_deterministic():
    text = "Melanie: Yesterday we celebrated my daughter's birthday with a concert in Boston."
    assert _said(text) == _said(text)


@contextmanager
def _failures_logged():
    """The extractor swallows its own bugs (and logs them); the property tests must see them."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.ERROR)
    handler.emit = records.append
    logger = logging.getLogger("memory.extraction.rules")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


_MARKDOWN_PIECES = st.sampled_from(
    [
        "\n", "\n\n", "- ", "* ", "1. ", "## ", "| a | b |\n", "|---|---|\n", "```", "~~~", "**", "`", "> ",
        "<memori_context>", "</memori_context>", "<br>", "Database: ", "Key players: ", " – ", "PostgreSQL",
        "Pinecone, Weaviate and Mem0", "I prefer ", "we ", "I'm ", "don't ", "The project ", "uses ", "is ",
        "is located in ", "a ", "the ", "or ", "Paris", ".", "?", "!", ",", ";", ":", " and I ", "You are a ",
        "As the billing specialist, I ", "can ", "knows how to ", "certified", "\x00", "😀", "مرحبا ", "我喜欢",
        "Привет ", "\u200f", "\t", "e.g. ", "Sure! ", "Here is ", "Caroline: ", "yesterday ", "moved to ",
        "last Friday ", "[shares a photo: ", "]", "myself ", "you ", "It ",
    ]
)  # fmt: skip
_ROLES = st.sampled_from(["user", "assistant", "system", "developer", "tool", "", "USER"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_ROLES, st.one_of(st.text(), st.lists(_MARKDOWN_PIECES).map("".join))), max_size=4),
    st.lists(st.tuples(st.integers(), st.sampled_from(["fact", "preference", "attribute"]), st.text()), max_size=5),
)
def test_extraction_never_fails_and_respects_its_caps(messages, related_rows):
    related = [RelatedMemory(memory_id, kind, content) for memory_id, kind, content in related_rows]

    with _failures_logged() as failures:
        extraction = extract(_exchange(*messages), related)

    assert failures == []
    assert len(extraction.memories) <= MAX_MEMORIES and len(extraction.triples) <= MAX_TRIPLES
    positions = set(range(len(messages)))
    for memory in extraction.memories:
        assert memory.kind in ("fact", "preference", "skill", "attribute")
        assert memory.content.strip() and len(memory.content) <= MAX_CONTENT_CHARS and "\x00" not in memory.content
        assert memory.source_position in positions
    for triple in extraction.triples:
        assert triple.subject and triple.object and triple.predicate == triple.predicate.lower()
        assert triple.source_position in positions
