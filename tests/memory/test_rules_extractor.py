"""The offline rules extractor, on the messages the seed samples send and replies like a model's."""

import logging
from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st

from memory.extraction.rules import MAX_CONTENT_CHARS, MAX_MEMORIES, MAX_TRIPLES, RulesExtractor, extract
from memory.extraction.types import (
    ExchangeInput,
    ExchangeMessage,
    ExtractedTriple,
    Extraction,
    Extractor,
    RelatedMemory,
)


def _exchange(*messages: tuple[str, str]) -> ExchangeInput:
    numbered = tuple(ExchangeMessage(position, role, text) for position, (role, text) in enumerate(messages))
    return ExchangeInput(entity_id="project_alpha", process_id="research_agent", messages=numbered)


def _user(text: str, related=()) -> Extraction:
    return extract(_exchange(("user", text)), related)


def _contents(extraction: Extraction, kind: str | None = None) -> list[str]:
    return [memory.content for memory in extraction.memories if kind is None or memory.kind == kind]


def _edges(extraction: Extraction) -> set[tuple[str, str, str]]:
    return {(t.subject, t.predicate, t.object) for t in extraction.triples}


def _triple(extraction: Extraction, obj: str) -> ExtractedTriple:
    return next(triple for triple in extraction.triples if triple.object == obj)


TRIAGE_REPLY = """I'm sorry to hear that you're having trouble accessing your account and that you've been \
charged twice. Let's address both issues:

1. **Account Access**:
   - Have you tried resetting your password? You can usually do this by clicking on "Forgot Password".
   - Make sure you're using the correct email address associated with your account.

2. **Double Charge**:
   - Please provide the date and amount of the charges so I can investigate.
   - Duplicate charges are usually pending authorizations that drop off within 3-5 business days.

Let me know if you have any other questions!"""

CODER_REPLY = """Sure! Below is a simple implementation of user authentication using JWT tokens and bcrypt.

### Prerequisites

1. **Node.js** installed on your machine.

### Step 1: Set Up Your Project

```bash
npm install express bcrypt jsonwebtoken
```

```javascript
const token = jwt.sign({ id: user.id }, process.env.JWT_SECRET, { expiresIn: '1h' });
```

### Explanation

- **bcrypt** is used to hash passwords before storing them.
- **JWT** tokens are issued on login and expire after 1 hour.

This implementation provides a basic user authentication system using JWT tokens and bcrypt for password hashing.
Let me know if you have any questions!"""

RESEARCH_REPLY = """# AI Infrastructure Market: Memory and Context Management

Here's an overview of the market:

## Key Players
- Key players: Pinecone, Weaviate, Mem0
- **Pinecone**: A managed vector database focused on low-latency similarity search.
- Database: PostgreSQL

## Pricing
| Vendor | Model | Starting price |
|--------|-------|----------------|
| Pinecone | Usage-based | $70/month |

Companies that offer low latency and easy integration will lead the market. I hope this helps!"""


# --- What the seed samples send ----------------------------------------------------------------


def test_task_statements_become_facts_about_jwt_and_bcrypt():
    extraction = _user("Implement user authentication with JWT tokens. Use bcrypt for passwords.")

    assert _contents(extraction, "fact") == [
        "Implement user authentication with JWT tokens.",
        "Use bcrypt for passwords.",
    ]
    assert ("user authentication", "uses", "JWT tokens") in _edges(extraction)
    assert ("project", "uses", "bcrypt") in _edges(extraction)
    assert _triple(extraction, "bcrypt").object_type == "technology"


def test_a_support_complaint_becomes_one_fact_per_problem():
    extraction = _user("I can't access my account and I was just charged twice on my card.")

    facts = _contents(extraction, "fact")
    assert len(facts) == 2
    assert "access my account" in facts[0]
    assert "charged twice" in facts[1]


def test_a_requirement_becomes_a_fact_and_a_triple():
    extraction = _user("We need a user notification system with email and in-app notifications.")

    assert _contents(extraction, "fact") == ["We need a user notification system with email and in-app notifications."]
    assert ("team", "requires", "user notification system") in _edges(extraction)


def test_research_bullets_become_facts_and_triples():
    extraction = extract(_exchange(("user", "Research: vector databases"), ("assistant", RESEARCH_REPLY)))

    facts = _contents(extraction, "fact")
    assert "Key players: Pinecone, Weaviate, Mem0" in facts
    assert "Database: PostgreSQL" in facts
    assert "Vendor: Pinecone; Model: Usage-based; Starting price: $70/month" in facts  # a table row
    assert "Companies that offer low latency and easy integration will lead the market." in facts
    edges = _edges(extraction)
    assert {("Key players", "includes", name) for name in ("Pinecone", "Weaviate", "Mem0")} <= edges
    assert ("Database", "is", "PostgreSQL") in edges
    assert ("Pinecone", "is_a", "managed vector database") in edges


def test_greetings_questions_and_filler_are_not_memory():
    extraction = extract(
        _exchange(
            ("user", "Hi! How can I help?"),
            ("assistant", "Sure! Here is what I found. Let me know if you need anything else. Thanks!"),
            ("user", "Can you summarise the findings? What should we do next"),
            ("assistant", "Great question! I hope this helps. Feel free to ask more."),
        )
    )

    assert extraction == Extraction()


def test_fragments_under_three_words_are_not_memory():
    assert _user("Sounds good.\nPostgreSQL.\nYes please").memories == ()


def test_a_triage_reply_keeps_its_content_and_drops_its_chatter():
    extraction = extract(_exchange(("assistant", TRIAGE_REPLY)))

    assert _contents(extraction) == [
        "Duplicate charges are usually pending authorizations that drop off within 3-5 business days."
    ]


def test_code_blocks_and_markdown_are_not_facts():
    extraction = extract(_exchange(("assistant", CODER_REPLY)))

    facts = _contents(extraction, "fact")
    assert "bcrypt is used to hash passwords before storing them." in facts
    assert "JWT tokens are issued on login and expire after 1 hour." in facts
    assert not any("npm" in fact or "jwt.sign" in fact or "**" in fact or "#" in fact for fact in facts)


# --- Voices and kinds --------------------------------------------------------------------------


def test_first_person_likes_wants_and_dislikes_are_preferences():
    extraction = _user("I prefer TypeScript. we like dark mode. I don't want email notifications.")

    assert _contents(extraction, "preference") == [
        "I prefer TypeScript.",
        "we like dark mode.",
        "I don't want email notifications.",
    ]
    assert {
        ("user", "prefers", "TypeScript"),
        ("team", "likes", "dark mode"),
        ("user", "does_not_want", "email notifications"),
    } <= _edges(extraction)


def test_wanting_to_do_something_is_a_request_not_a_preference():
    assert _user("I want to reset my password today.").memories[0].kind == "fact"


def test_abilities_and_certifications_are_skills():
    extraction = _user("I'm a Python developer and I'm AWS certified. Maria knows how to deploy Kubernetes.")

    assert _contents(extraction, "skill") == [
        "I'm a Python developer",
        "I'm AWS certified.",
        "Maria knows how to deploy Kubernetes.",
    ]
    assert ("user", "is_a", "Python developer") in _edges(extraction)


def test_a_negated_ability_is_a_fact_not_a_skill():
    assert _user("I don't know how to configure the VPN client.").memories[0].kind == "fact"


def test_the_agent_describing_itself_gives_attributes_without_triples():
    extraction = extract(
        _exchange(
            ("assistant", "I am a research agent. As the billing specialist, I handle refunds and invoices."),
            ("assistant", "This agent handles data analysis."),
        )
    )

    assert _contents(extraction, "attribute") == [
        "I am a research agent.",
        "As the billing specialist, I handle refunds and invoices.",
        "This agent handles data analysis.",
    ]
    assert extraction.triples == ()


def test_a_system_prompt_only_tells_who_the_agent_is():
    extraction = extract(
        _exchange(
            ("system", "You are a billing specialist. Handle payment issues, invoices, and subscription questions."),
            ("developer", "Your role is to review pull requests. The database is MySQL."),
            ("tool", "The database is PostgreSQL."),
        )
    )

    assert [(m.kind, m.content) for m in extraction.memories] == [
        ("attribute", "This agent is a billing specialist."),
        ("attribute", "This agent's role is to review pull requests."),
    ]


def test_instructions_to_the_reader_are_not_memory():
    extraction = extract(
        _exchange(("assistant", "Click Forgot Password on the login page. You can reset it from the settings page."))
    )

    assert extraction.memories == ()


# --- Triples -----------------------------------------------------------------------------------


def test_subject_verb_object_sentences_become_triples():
    extraction = _user("Our API uses JWT tokens. The project uses PostgreSQL. Acme Corp is located in Paris.")

    assert _edges(extraction) == {
        ("API", "uses", "JWT tokens"),
        ("project", "uses", "PostgreSQL"),
        ("Acme Corp", "located_in", "Paris"),
    }
    paris = _triple(extraction, "Paris")
    assert (paris.subject_type, paris.object_type) == ("organisation", "place")
    assert _triple(extraction, "PostgreSQL").object_type == "technology"


def test_lists_of_objects_give_one_triple_each_and_alternatives_none():
    assert _edges(_user("The backend uses Redis, Celery and PostgreSQL.")) == {
        ("backend", "uses", "Redis"),
        ("backend", "uses", "Celery"),
        ("backend", "uses", "PostgreSQL"),
    }
    assert _edges(_user("The backend uses MySQL or PostgreSQL.")) == set()


def test_short_items_after_a_lead_in_take_its_label():
    extraction = extract(_exchange(("assistant", "The main vector databases are:\n- Qdrant\n- Milvus")))

    assert _contents(extraction) == ["Main vector databases: Qdrant", "Main vector databases: Milvus"]
    assert _edges(extraction) == {
        ("Main vector databases", "includes", "Qdrant"),
        ("Main vector databases", "includes", "Milvus"),
    }


def test_numbered_headings_label_the_short_items_under_them():
    reply = "#### 2. Functional Requirements\n- **Email Notifications**\n- **In-App Notifications**"

    extraction = extract(_exchange(("assistant", reply)))

    assert _contents(extraction) == [
        "Functional Requirements: Email Notifications",
        "Functional Requirements: In-App Notifications",
    ]
    assert ("Functional Requirements", "includes", "In-App Notifications") in _edges(extraction)


def test_a_leading_label_is_peeled_off_the_sentence():
    extraction = _user("Note: the API uses JWT tokens.")

    assert _contents(extraction) == ["The API uses JWT tokens."]
    assert _edges(extraction) == {("API", "uses", "JWT tokens")}


def test_qualities_and_clauses_do_not_become_graph_nodes():
    extraction = _user(
        "Emails are sent through SendGrid. The API is fast. In 2023: the market grew. "
        "Scalability: The system should support 100,000 users."
    )

    assert len(extraction.memories) == 4
    assert extraction.triples == ()


def test_skills_belong_to_people_not_products():
    assert _user("Pinecone is SOC 2 certified.").memories[0].kind == "fact"


def test_recommendations_are_kept_and_promises_are_not():
    reply = "Based on the research, I would recommend focusing on developer experience. I'll set that up for you now."

    assert _contents(extract(_exchange(("assistant", reply)))) == [
        "Based on the research, I would recommend focusing on developer experience."
    ]


def test_each_record_points_to_the_message_it_came_from():
    extraction = extract(
        _exchange(
            ("system", "You are a coding agent."),
            ("user", "Use bcrypt for passwords."),
            ("assistant", "The project uses PostgreSQL."),
        )
    )

    assert [m.source_position for m in extraction.memories] == [0, 1, 2]
    assert [t.source_position for t in extraction.triples] == [1, 2]


# --- Existing memories: updates and contradictions ---------------------------------------------


def test_a_different_value_for_the_same_subject_and_predicate_is_a_contradiction():
    related = [RelatedMemory(memory_id=7, kind="fact", content="The database is MySQL")]

    for text in ("The database is PostgreSQL.", "- Database: PostgreSQL"):
        memory = _user(text, related).memories[0]
        assert (memory.relation, memory.related_memory_id) == ("contradiction", 7)


def test_saying_the_opposite_is_a_contradiction():
    related = [RelatedMemory(memory_id=3, kind="preference", content="I don't want email notifications")]

    memory = _user("I want email notifications.", related).memories[0]

    assert (memory.relation, memory.related_memory_id) == ("contradiction", 3)


def test_more_detail_on_an_existing_memory_is_an_update():
    related = [RelatedMemory(memory_id=5, kind="fact", content="Our API uses JWT")]

    memory = _user("Our API uses JWT tokens.", related).memories[0]

    assert (memory.relation, memory.related_memory_id) == ("update", 5)


def test_using_several_things_is_not_a_contradiction():
    related = [RelatedMemory(memory_id=1, kind="fact", content="The project uses Redis")]

    memory = _user("The project uses PostgreSQL.", related).memories[0]

    assert (memory.relation, memory.related_memory_id) == ("new", None)


def test_descriptions_are_not_exclusive():
    related = [RelatedMemory(memory_id=1, kind="fact", content="The API is fast")]

    assert _user("The API is well documented.", related).memories[0].relation == "new"


def test_attributes_are_only_judged_against_attributes():
    related = [RelatedMemory(memory_id=2, kind="fact", content="I am a research agent")]
    extraction = extract(_exchange(("assistant", "I am a research agent with web access.")), related)

    assert extraction.memories[0].relation == "new"


# --- Robustness, caps, determinism ---------------------------------------------------------------


def test_injected_memory_is_not_extracted_again():
    text = (
        "<memori_context>\n- The database is MySQL\n- Prefers TypeScript\n</memori_context>\n"
        "Implement the notification system based on the requirements."
    )
    extraction = _user(text)

    assert _contents(extraction) == ["Implement the notification system based on the requirements."]
    assert _user("<memori_context>The database is MySQL. And it never closes").memories == ()


def test_the_same_statement_is_kept_once_per_exchange():
    extraction = extract(
        _exchange(("user", "The project uses PostgreSQL."), ("assistant", "The project uses PostgreSQL!"))
    )

    assert len(extraction.memories) == 1
    assert len(extraction.triples) == 1


def test_output_is_capped_per_exchange_and_per_record():
    many = " ".join(f"Service number {i} uses database {i}." for i in range(500))
    long = "The report says " + "that the market keeps growing " * 100 + "."

    extraction = _user(many + "\n\n" + long)
    capped = _user(long)

    assert len(extraction.memories) == MAX_MEMORIES
    assert len(extraction.triples) == MAX_TRIPLES
    assert len(capped.memories[0].content) <= MAX_CONTENT_CHARS


def test_non_latin_text_is_kept_as_written():
    extraction = _user("我喜欢深色模式。我们的数据库是PostgreSQL。Я предпочитаю тёмную тему. أنا أفضل الوضع الداكن.")

    assert _contents(extraction) == [
        "我喜欢深色模式。",
        "我们的数据库是PostgreSQL。",
        "Я предпочитаю тёмную тему.",
        "أنا أفضل الوضع الداكن.",
    ]


def test_odd_input_gives_no_memory_and_no_error():
    for text in ("", "\x00\x00\x00", "😀😀😀", "\u202e\u202d", "```", "|||", "- \n- \n", "#" * 10_000):
        assert _user(text) == Extraction()
    assert extract(ExchangeInput("e", "p", ()), ()) == Extraction()
    assert extract(ExchangeInput("e", "p", (ExchangeMessage(0, None, None),)), None) == Extraction()


def test_nul_bytes_and_emoji_do_not_leak_into_content():
    extraction = _user("The project\x00 uses PostgreSQL 🚀 for storage.")

    assert _contents(extraction) == ["The project uses PostgreSQL 🚀 for storage."]
    assert _edges(extraction) == {("project", "uses", "PostgreSQL")}


def test_huge_messages_are_handled_quickly():
    extraction = _user("The project uses PostgreSQL. " * 100_000)

    assert len(extraction.memories) == 1


def test_it_is_deterministic():
    exchange = _exchange(("user", "Research: vector databases"), ("assistant", RESEARCH_REPLY + CODER_REPLY))

    assert extract(exchange) == extract(exchange)


def test_the_rules_extractor_is_an_extractor_named_rules():
    extractor = RulesExtractor()

    assert isinstance(extractor, Extractor)
    assert extractor.name == "rules"
    assert extractor(_exchange(("user", "Use bcrypt for passwords.")), []) == extract(
        _exchange(("user", "Use bcrypt for passwords."))
    )


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
        "Привет ", "\u200f", "\t", "e.g. ", "Sure! ", "Here is ",
    ]
)  # fmt: skip
_ROLES = st.sampled_from(["user", "assistant", "system", "developer", "tool", "", "USER"])


@settings(max_examples=300, deadline=None)
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
        assert (memory.relation == "new") == (memory.related_memory_id is None)
    for triple in extraction.triples:
        assert triple.subject and triple.object and triple.predicate == triple.predicate.lower()
        assert triple.source_position in positions
