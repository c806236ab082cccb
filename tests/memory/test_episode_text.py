"""What of an exchange is kept as its episode (memory/extraction/episodes.py): the shareable prose
of its own turn, with its speaker, clipped at a sentence."""

from __future__ import annotations

from memory.extraction.episodes import MAX_EPISODE_CHARS, episode_text, episode_texts


def test_a_named_speakers_message_keeps_its_label_and_its_photo_caption():
    text = episode_text(
        [("user", "Caroline: Here is my new painting! [shares a photo: a sunset over a lake with purple clouds]")]
    )

    assert text == "Caroline: Here is my new painting! [shares a photo: a sunset over a lake with purple clouds]"


def test_questions_and_the_agents_descriptions_of_itself_are_not_shared():
    text = episode_text(
        [
            ("system", "You are the billing agent."),
            ("user", "Did the refund go through? The customer was charged twice for order 8812."),
            (
                "assistant",
                "I am the billing agent for this account and I handle refunds. A refund of 49 euros was issued.",
            ),
        ]
    )

    assert text == "user: The customer was charged twice for order 8812. / assistant: A refund of 49 euros was issued."


def test_the_injected_context_and_earlier_turns_of_the_session_are_left_out():
    text = episode_text(
        [
            ("user", "We deploy on Fridays."),
            ("assistant", "Noted: deploys happen on Fridays."),
            (
                "user",
                "<memori_context>\n- [1 May 2023] The team uses Slack\n</memori_context>\nThe release moved to June.",
            ),
        ]
    )

    assert text == "user: The release moved to June."


def test_an_exchange_with_nothing_to_share_has_no_episode():
    assert episode_text([("user", "How are you doing?"), ("assistant", "Anything else I can help with?")]) == ""
    assert episode_text([("system", "You are helpful."), ("tool", "{}")]) == ""


def test_a_long_exchange_is_cut_at_a_sentence():
    sentences = [f"Finding number {n} is that vendor {n} answers within {n} days." for n in range(20)]

    text = episode_text([("assistant", " ".join(sentences))])

    assert len(text) <= MAX_EPISODE_CHARS and text.endswith("days.")
    assert text.startswith("assistant: Finding number 0 is")


def test_a_sentence_saying_what_extraction_kept_as_an_attribute_is_not_shared():
    text = episode_text(
        [("assistant", "Handles vendor analysis for the EU accounts. The EU accounts renew in March.")],
        private=["Handles vendor analysis for the EU accounts"],
    )

    assert text == "assistant: The EU accounts renew in March."


def test_orders_thanks_and_promises_are_not_shared():
    text = episode_text(
        [
            ("user", "Research top 5 competitors. Thanks!"),
            (
                "assistant",
                "Thank you, I have noted that. Let me look into that and report back. "
                "The top competitors are Mem0, Zep, Letta, LangMem and Memori.",
            ),
        ]
    )

    assert text == "assistant: The top competitors are Mem0, Zep, Letta, LangMem and Memori."


def test_a_finding_whose_subject_opens_with_a_verb_of_command_is_shared():
    findings = "Refresh tokens are stored unencrypted in the Redis cache. Test results show a 3% error rate."

    assert episode_text([("user", findings)]) == f"user: {findings}"
    assert episode_text([("user", "Review the pull request. Build times doubled after the upgrade.")]) == (
        "user: Build times doubled after the upgrade."
    )


def test_a_batch_gets_the_episodes_its_exchanges_get_one_by_one():
    exchanges = [
        ([("user", "Refresh tokens are stored unencrypted in the Redis cache.")], []),
        ([("user", "Review the pull request. Build times doubled after the upgrade.")], []),
        ([("user", "Research top 5 competitors."), ("assistant", "Mem0 and Zep lead the market.")], []),
        ([("user", "Test results show a 3% error rate. Thanks!")], []),
        ([("assistant", "I am the billing agent. Invoices go out on Mondays.")], ["I am the billing agent"]),
        ([("user", "How are you?")], []),
    ]

    batch = episode_texts(exchanges)

    assert batch == [episode_text(messages, private=private) for messages, private in exchanges]
    assert batch[1] == "user: Build times doubled after the upgrade." and batch[5] == ""
