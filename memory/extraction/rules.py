"""The offline extractor, the default when no LLM is configured: a parse, no model download.

A memory is a self-contained statement that is still useful outside its conversation. Each
message is cleaned and cut into blocks (clauses.py); the assistant's structured items (table rows,
"Key: value" lines, labelled list items) are kept as written, and every sentence is parsed with
spaCy (nlp.py) and kept only when it is a statement whose subject can be named, rewritten in the
third person ("Melanie: we celebrated my daughter's birthday" -> "Melanie celebrated their
daughter's birthday"; statements.py). A sentence the small model misparses is kept as written
when it still reads as a plain statement (misparses.py). Relative times are resolved against the
exchange's original time (relative_dates.py); values and dates are read from the parse
(values.py). Kept statements give triples between noun phrases (relations.py) and, when they
state a one-at-a-time value, a state claim that a later value supersedes (claims.py).
Greetings, thanks, reactions, questions, orders ("Research: X") and fragments are not memory: they
stay in the conversation, searchable as history.

Who "I" is: the speaker named at the start of the message ("Caroline: ..."), else the user for a
user message and the agent (its process id) for the assistant's reply; "you" is the agent in a
user message, the user in a reply, and nobody known in a named speaker's message (a sentence
about "you" is then not kept).

It never raises (a worker must not die on one odd message) and its output is capped per exchange.
Existing related memories are not consulted: updates are decided when storing, from claims.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import threading
from collections.abc import Sequence

from memory.extraction.claims import statement_claim
from memory.extraction.clauses import (
    INSTRUCTION_ROLES,
    MAX_SENTENCE_CHARS,
    SPEAKER_ROLES,
    Clause,
    Prose,
    label_item,
    message_units,
    prose_kind,
)
from memory.extraction.misparses import as_written
from memory.extraction.nlp import parse_many
from memory.extraction.node_types import node_type
from memory.extraction.normalize import normalize_text
from memory.extraction.relations import MAX_NODE_CHARS, statement_relations
from memory.extraction.relative_dates import resolve_relative_dates
from memory.extraction.self_description import is_self_description
from memory.extraction.sentences import (
    MAX_CONTENT_CHARS,
    MAX_MESSAGE_CHARS,
    MIN_WORDS,
    SPEAKER_LABEL,
    clean_message,
    clip,
)
from memory.extraction.statements import Voice, rewrite
from memory.extraction.types import ExchangeInput, ExtractedMemory, ExtractedTriple, Extraction, RelatedMemory

__all__ = [
    "INSTRUCTION_ROLES",
    "MAX_CONTENT_CHARS",
    "MAX_MEMORIES",
    "MAX_MESSAGE_CHARS",
    "MAX_NODE_CHARS",
    "MAX_SENTENCE_CHARS",
    "MAX_TRIPLES",
    "MIN_WORDS",
    "SPEAKER_ROLES",
    "RulesExtractor",
    "extract",
]

logger = logging.getLogger(__name__)

MAX_MEMORIES = 50
MAX_TRIPLES = 50
MAX_JOINED_CHARS = 400  # a memory and the sentences that lean on it
MIN_STATEMENT_WORDS = 5  # "Caroline is happy." says nothing that lasts
USER = "The user"
_BRACKETED = re.compile(r"\s*\[[^\]\n]{0,500}\]")  # "[shares a photo: ...]": an aside, not the statement


def voice_of(role: str, process_id: str, text: str) -> tuple[Voice, str]:
    """Who "I" and "you" are in a message, and its text without a leading speaker label."""
    label = SPEAKER_LABEL.match(text) if role != "assistant" else None
    if label is not None and is_speaker_name(label["name"], process_id):
        return Voice(label["name"]), text[label.end() :]
    if role == "assistant":
        return Voice(process_id or "The assistant", USER), text
    return Voice(USER, process_id or None), text


@functools.lru_cache(maxsize=4096)
def is_speaker_name(label: str, process_id: str) -> bool:
    """Whether "<label>: ..." names who speaks ("Caroline: I went ...") rather than labels what
    follows ("Note: I prefer email"): the label is the process's own name, or the parser reads it
    as a proper name or a person."""
    if label.casefold() == (process_id or "").casefold():
        return True
    doc = parse_many([f"{label}: I went home."])[0]
    words = doc[: len(label.split())]
    return all(token.pos_ == "PROPN" for token in words)


class _Collector:
    """Memories and triples of one exchange, deduplicated and capped."""

    def __init__(self) -> None:
        self.memories: list[ExtractedMemory] = []
        self.triples: list[ExtractedTriple] = []
        self._contents: set[str] = set()
        self._triples: set[tuple[str, str, str]] = set()

    @property
    def full(self) -> bool:
        return len(self.memories) >= MAX_MEMORIES and len(self.triples) >= MAX_TRIPLES

    def memory(self, kind, content: str, position: int, claim=None) -> bool:
        normalized = normalize_text(content)
        if not normalized or normalized in self._contents or len(self.memories) >= MAX_MEMORIES:
            return False
        self._contents.add(normalized)
        self.memories.append(ExtractedMemory(kind, content, position, claim=claim))
        return True

    def extend_last(self, sentence: str, position: int) -> bool:
        """Join a sentence that leans on the last memory to it, within MAX_JOINED_CHARS."""
        if not self.memories or self.memories[-1].source_position != position:
            return False
        last = self.memories[-1]
        joined = f"{last.content} {sentence}"
        if len(joined) > MAX_JOINED_CHARS:
            return False
        self._contents.discard(normalize_text(last.content))
        self._contents.add(normalize_text(joined))
        self.memories[-1] = dataclasses.replace(last, content=joined)
        return True

    def triple(self, subject, predicate, obj, position: int, *, subject_is_speaker: bool = False) -> None:
        """An edge; node types are node_types' judgement, and the speaker is a person."""
        key = (normalize_text(subject), predicate, normalize_text(obj))
        if len(self.triples) >= MAX_TRIPLES or key in self._triples or not all(key):
            return
        self._triples.add(key)
        subject_type = node_type(subject, predicate, is_object=False)
        if subject_type == "concept" and subject_is_speaker:
            subject_type = "person"
        object_type = node_type(obj, predicate, is_object=True)
        self.triples.append(ExtractedTriple(subject, subject_type, predicate, obj, object_type, position))


def _take_clause(clause: Clause, out: _Collector) -> None:
    if out.memory(clause.kind, clause.content, clause.position) and clause.kind != "attribute":
        for rel in clause.relations:
            out.triple(rel.subject, rel.label, rel.object, clause.position)


def is_english(doc) -> bool:
    """The parser reads English only. English prose is about one word in three a stop word
    ("the", "of", "is"); a sentence with almost none is another language (or a list of names)."""
    words = [t for t in doc if t.is_alpha]
    if not words:
        return False
    if sum(1 for t in words if t.text.isascii()) < 0.8 * len(words):
        return False
    return len(words) < 8 or sum(1 for t in words if t.is_stop) >= 0.1 * len(words)


def _take_as_written(prose: Prose, out: _Collector) -> None:
    """Prose in another language is kept as written (a statement, not a question or greeting, as
    clauses.py judged): no rewrite and no triples, since the parse would be of the wrong language."""
    kind = prose_kind(prose.text, prose.role)
    if kind is not None:
        out.memory(kind, clip(prose.text), prose.position)


def _private_clause(text: str) -> bool:
    return is_self_description(text, "assistant")


def _take_self_description(sentence, voice: Voice, prose: Prose, out: _Collector) -> bool:
    """The agent describing itself ("I am the billing agent", "I can approve credits up to 500
    euros"): an attribute of its process, never shared, with no graph edge."""
    statement = rewrite(sentence, voice)
    text = statement.text if statement is not None else " ".join(sentence.text.split())
    return out.memory("attribute", clip(text), prose.position)


def _too_short(statement) -> bool:
    """Under MIN_STATEMENT_WORDS words says nothing that lasts ("Caroline is happy."), unless it
    gives a name or a number ("Payments go through Stripe.")."""
    words = len(statement.text.split())
    if words >= MIN_STATEMENT_WORDS:
        return False
    named = any(t.pos_ in ("PROPN", "NUM") and t.i > statement.sentence.root.i for t in statement.sentence)
    return words < MIN_STATEMENT_WORDS - 1 or not named


def _take_prose(prose: Prose, doc, voice: Voice, exchange: ExchangeInput, out: _Collector, follows: bool) -> bool:
    """Keep the statements of one sentence; True when the last one kept is a statement a next
    sentence of the same message may lean on ("... a gift from Caroline's grandma. It stands for
    love, faith and strength." is one memory)."""
    if not is_english(doc):
        _take_as_written(prose, out)
        return False
    kept_any = False
    agent = prose.role == "assistant"
    private = _private_clause if agent else None
    small_talk = voice.listener is None  # a named speaker's line of a conversation between people
    for sentence in doc.sents:
        if agent and is_self_description(sentence.text, prose.role):
            follows = _take_self_description(sentence, voice, prose, out)
            continue
        statement = rewrite(sentence, voice, generic_only=small_talk, follow_on=follows, private=private)
        statement = statement or as_written(sentence, present_forms=not small_talk)
        if statement is None:
            follows = False
            continue
        kind = prose_kind(sentence.text, prose.role, has_subject=statement.subject is not None)
        if kind is None or (_too_short(statement) and not statement.continues):
            follows = False
            continue
        content = resolve_relative_dates(statement.text, exchange.occurred_at)
        if statement.continues:
            follows = out.extend_last(content, prose.position)
            kept_any = kept_any or follows
            continue
        claim = statement_claim(statement, voice) if kind != "skill" else None
        if not out.memory(kind, clip(content), prose.position, claim):
            follows = False
            continue
        kept_any = follows = True
        for clause in statement.set_apart:
            _take_self_description(clause, voice, prose, out)
        if kind == "attribute":
            continue  # an agent's description of itself stays private: no shared graph edge
        for rel in statement_relations(statement, voice):
            out.triple(
                rel.subject, rel.predicate, rel.object, prose.position, subject_is_speaker=rel.subject_is_speaker
            )
    if not kept_any:
        clause = label_item(prose)
        if clause is not None:
            _take_clause(clause, out)
    return follows


def _units(exchange: ExchangeInput) -> tuple[list[Clause], list[tuple[Prose, Voice]]]:
    clauses: list[Clause] = []
    prose_units: list[tuple[Prose, Voice]] = []
    for message in exchange.messages or ():
        role = str(getattr(message, "role", "") or "").lower()
        text = clean_message(getattr(message, "content", ""))
        voice, text = voice_of(role, exchange.process_id, text)
        for unit in message_units(message, _BRACKETED.sub("", text)):
            if isinstance(unit, Prose):
                prose_units.append((unit, voice))
            else:
                clauses.append(unit)
    return clauses, prose_units


class _ParsedBatch(threading.local):
    """Parses made ahead for a batch of exchanges (``RulesExtractor.prepare``), by text."""

    docs: dict[str, object] | None = None


_parsed = _ParsedBatch()


def _parse(texts: list[str]) -> list:
    ready = _parsed.docs or {}
    missing = [text for text in dict.fromkeys(texts) if text not in ready]
    parsed = dict(zip(missing, parse_many(missing), strict=True)) if missing else {}
    return [ready[text] if text in ready else parsed[text] for text in texts]


def _extract(exchange: ExchangeInput) -> Extraction:
    out = _Collector()
    clauses, prose_units = _units(exchange)
    for clause in clauses:
        _take_clause(clause, out)
    docs = _parse([unit.text for unit, _ in prose_units]) if prose_units else []
    follows, last_position = False, None
    for (unit, voice), doc in zip(prose_units, docs, strict=True):
        if out.full:
            break
        follows = _take_prose(unit, doc, voice, exchange, out, follows and unit.position == last_position)
        last_position = unit.position
    return Extraction(tuple(out.memories), tuple(out.triples))


def extract(exchange: ExchangeInput, related: Sequence[RelatedMemory] = ()) -> Extraction:
    """Memories and triples of one exchange. Never raises: on a bug it logs and returns nothing,
    so one odd message cannot stop the augmentation worker."""
    try:
        return _extract(exchange)
    except Exception:
        logger.exception("rules extractor failed on an exchange of entity %r", getattr(exchange, "entity_id", None))
        return Extraction()


class RulesExtractor:
    """The ``Extractor`` the worker uses when no model is configured."""

    name = "rules"
    batch_size = 64  # a few milliseconds a job: the worker claims and stores jobs in batches

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory] = ()) -> Extraction:
        return extract(exchange, related)

    def prepare(self, exchanges: Sequence[ExchangeInput]) -> None:
        """Parse the prose of a whole batch in one pass of the pipeline (a third cheaper than one
        pass per exchange); the calls that follow, in this thread, use these parses."""
        texts = list(dict.fromkeys(unit.text for exchange in exchanges for unit, _ in _units(exchange)[1]))
        _parsed.docs = dict(zip(texts, parse_many(texts), strict=True))
