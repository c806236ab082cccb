"""What of an exchange other processes may read as it was said: its episode, and raw pending work.

Extraction keeps clean, self-contained statements; what it cannot rewrite (a photo caption, a
reply that leans on what came before) would be lost. So each augmented exchange also keeps an
*episode*: its own turn's user and assistant prose, stored beside its memories and recalled whole
when it answers a question no memory does (memory/models/episodes.py, memory/recall/).

An episode, like the raw pending work recall serves before augmentation (memory/recall/context.py),
carries only what augmentation would share:

- the exchange's own turn, from its last user message on (earlier messages an exchange may carry
  are its session's conversation, recorded by earlier exchanges); no system, developer or tool
  messages;
- prose only: our own injected `<memori_context>` block, code and markup are dropped
  (`clean_message`);
- statements, not questions, greetings, thanks, promises or the user's orders, and none of the
  agent's descriptions of itself ("I am the billing
  agent and I handle refunds" is an attribute of that process, which no other process sees),
  judged by `memory.extraction.self_description`; nor a sentence that says what the exchange's
  extraction kept as an attribute (`private`: an LLM extractor may judge more sentences private);
- a speaker label the message starts with is kept ("Caroline: ..."); a message without one is
  labelled by its role ("user: ...", "assistant: ...");
- at most `MAX_EPISODE_CHARS`, cut at a sentence's end where one is near.

An exchange with nothing left gets no episode.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextvars import ContextVar

from memory.extraction.classify import INTERJECTION, is_filler, memory_kind
from memory.extraction.lexicon import IMPERATIVE
from memory.extraction.nlp import parse_many
from memory.extraction.self_description import is_self_description
from memory.extraction.sentences import SPEAKER_LABEL, clean_message, working_text
from memory.recall.text import tokenize

MAX_EPISODE_CHARS = 400
PRIVATE_COVERED = 0.6  # share of a sentence's words an attribute holds for the sentence to be private
PART_SEPARATOR = " / "
SPOKEN_ROLES = ("user", "assistant")
_SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"})

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])")
# A coordinated clause with a subject of its own: "..., and I handle refunds", "...; my role is ...".
_CLAUSE = re.compile(r"\s*;\s+|,?\s+(?:and|but|so|while)\s+(?=(?:i|you|my|your|this agent)\b)", re.IGNORECASE)
_CUT = re.compile(r"[.!?\]…](?=\s)|\s/(?=\s)")


def _says_nothing_to_keep(sentence: str, role: str) -> bool:
    """Greetings, thanks and other talk about the conversation, the agent's promises and advice to
    the reader ("Let me look into that and report back.", "You can reset it in Settings."), and
    the user's orders ("Research top 5 competitors."): the extractor keeps none of them, and
    another agent learns nothing from them."""
    work = working_text(sentence)
    if role != "user":
        return not work or is_filler(work) or memory_kind(work, role) is None
    rest = working_text(INTERJECTION.sub("", SPEAKER_LABEL.sub("", sentence)))
    return len(rest.split()) < 3 or _is_order(rest)  # "Thanks!", an order


def _is_order(text: str) -> bool:
    """ "Research top 5 competitors." but not "Refresh tokens are stored unencrypted." nor "Test
    results show a 3% error rate.": a sentence opening with a verb of command is an order unless the
    parse gives its main verb a subject (then that first word is part of the subject). Only
    sentences opening with such a verb are parsed (in one pass for a whole batch: `episode_texts`)."""
    if text.split(" ", 1)[0].lower() not in IMPERATIVE:
        return False
    batch = _ORDERS_OF_BATCH.get()
    if batch is not None:
        if batch.collecting:
            batch.asked.setdefault(text, None)
            return False
        if text in batch.verdicts:
            return batch.verdicts[text]
    return _has_no_subject(parse_many([text])[0])


def _has_no_subject(doc) -> bool:
    root = next(iter(doc.sents)).root
    return not any(child.dep_ in _SUBJECTS for child in root.children)


class _BatchOrders:
    """The sentences of a batch that open with a verb of command: first collected, then parsed
    together and judged (one pass of the pipeline per sentence costs several times more)."""

    def __init__(self) -> None:
        self.collecting = True
        self.asked: dict[str, None] = {}
        self.verdicts: dict[str, bool] = {}


_ORDERS_OF_BATCH: ContextVar[_BatchOrders | None] = ContextVar("episode_orders_of_batch", default=None)


def episode_texts(exchanges: Sequence[tuple[Sequence[tuple[str, str]], Iterable[str]]]) -> list[str]:
    """`episode_text` of each exchange of a batch, given as `(messages, private)`: the same texts,
    with the sentences that need a parse parsed in one pass for the whole batch."""
    exchanges = [(list(messages), list(private)) for messages, private in exchanges]
    batch = _BatchOrders()
    token = _ORDERS_OF_BATCH.set(batch)
    try:
        for messages, private in exchanges:  # collects the sentences to parse; the texts are not kept
            episode_text(messages, private=private)
        texts = list(batch.asked)
        batch.verdicts = {text: _has_no_subject(doc) for text, doc in zip(texts, parse_many(texts), strict=True)}
        batch.collecting = False
        return [episode_text(messages, private=private) for messages, private in exchanges]
    finally:
        _ORDERS_OF_BATCH.reset(token)


def shared_statements(text: str, role: str) -> str:
    """The statements of one message that another process may read: not its questions, talk or
    orders, and not its clauses describing the agent itself (an attribute of that agent's
    process, as the extraction package judges it)."""
    kept = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?") or _says_nothing_to_keep(sentence, role):
            continue
        end = sentence[-1] if sentence[-1] in ".!" else "."
        clauses = [clause for clause in _CLAUSE.split(sentence.rstrip(".!")) if clause.strip()]
        shared = [clause for clause in clauses if not is_self_description(clause, role)]
        if len(shared) == len(clauses):
            kept.append(sentence)
        elif shared:
            kept.append(_capitalised("; ".join(shared)) + end)
    return " ".join(kept)


def episode_text(messages: Iterable[tuple[str, str]], *, private: Iterable[str] = ()) -> str:
    """The episode of an exchange whose messages are `(role, content)` in order; "" when nothing
    of it may be shared. `private`: the attributes its extraction kept for its process alone."""
    turn: list[tuple[str, str]] = []
    for role, content in messages:
        if role == "user":
            turn = []  # the exchange's own turn starts at its last user message
        if role in SPOKEN_ROLES:
            turn.append((role, content))
    attributes = [words for text in private if (words := frozenset(tokenize(text)))]
    parts = [part for role, content in turn if (part := _shared_part(role, content, attributes))]
    return clip_at_sentence(PART_SEPARATOR.join(parts))


def _shared_part(role: str, content: str, attributes: list[frozenset[str]]) -> str:
    text = " ".join(clean_message(content).split())
    label = SPEAKER_LABEL.match(text)
    speaker = label["name"] if label else role
    shared = shared_statements(text[label.end() :] if label else text, role)
    if attributes:
        sentences = _SENTENCE_END.split(shared)
        shared = " ".join(sentence for sentence in sentences if not _says_one_of(sentence, attributes))
    return f"{speaker}: {shared}" if shared else ""


def _says_one_of(sentence: str, attributes: list[frozenset[str]]) -> bool:
    words = frozenset(tokenize(sentence))
    return bool(words) and any(len(words & attribute) >= PRIVATE_COVERED * len(words) for attribute in attributes)


def clip_at_sentence(text: str, limit: int = MAX_EPISODE_CHARS) -> str:
    """At most `limit` characters: cut after the last sentence (or part) that ends in the second
    half of the limit, else at a word boundary, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    ends = [match.end() for match in _CUT.finditer(text, 0, limit)]
    ends = [end for end in ends if end >= limit // 2]
    if ends:
        return text[: ends[-1]].rstrip(" /")
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit - 1].rstrip() + "…"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
