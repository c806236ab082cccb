"""The LLM extractor: any OpenAI-compatible chat completions server, through the `openai` package.

The model gets the exchange's messages (with their positions, for provenance) and the entity's
related existing memories (with their ids), and must answer with JSON matching ``EXTRACTION_SCHEMA``
(sent as a ``json_schema`` response format). A memory that restates or refines an existing one
is marked ``update``, one that disagrees with it ``contradiction``, each with that memory's id.
A memory that states the current value of something holding one value at a time carries a
``claim`` (subject, attribute, value, value_type: memory/extraction/types.py ``StateClaim``), so a
later value supersedes it; events carry none. The schema sent makes ``claim`` nullable (strict
structured outputs need every key); a reply without it is accepted as "no claim".

Malformed output (not JSON, not matching the schema, positions or ids that do not exist) is sent
back to the model with the reason, up to ``MALFORMED_RETRIES`` times; then ``ExtractionFailed``
fails the job with the reason. Timeouts, connection errors, 5xx and rate limits raise
``ExtractorUnavailable``: the job is retried with backoff.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

import jsonschema
import openai

from memory.extraction.normalize import normalize_predicate
from memory.extraction.registry import ExtractionFailed, ExtractorUnavailable
from memory.extraction.types import (
    MEMORY_KINDS,
    RELATIONS,
    ExchangeInput,
    ExtractedMemory,
    ExtractedTriple,
    Extraction,
    RelatedMemory,
    StateClaim,
)

logger = logging.getLogger(__name__)

MALFORMED_RETRIES = 2
MAX_PROMPT_CHARS = 24_000
MAX_RELATED_IN_PROMPT = 50
_CONTEXT_BLOCK = re.compile(r"<memori_context\b[^>]*>.*?(?:</memori_context\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_CODE_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)

_TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
CLAIM_VALUE_TYPES = ("date", "money", "number", "name", "place", "other")
_CLAIM = {
    "anyOf": [
        {"type": "null"},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["subject", "attribute", "value", "value_type"],
            "properties": {
                "subject": {"type": "string", "minLength": 1, "maxLength": 200},
                "attribute": {"type": "string", "minLength": 1, "maxLength": 100},
                "value": {"type": "string", "minLength": 1, "maxLength": 300},
                "value_type": {"type": "string", "enum": list(CLAIM_VALUE_TYPES)},
            },
        },
    ]
}
EXTRACTION_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["memories", "triples"],
    "properties": {
        "memories": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "content", "source_position", "relation", "related_memory_id", "claim"],
                "properties": {
                    "kind": {"type": "string", "enum": list(MEMORY_KINDS)},
                    "content": _TEXT,
                    "source_position": {"type": "integer", "minimum": 0},
                    "relation": {"type": "string", "enum": list(RELATIONS)},
                    "related_memory_id": {"type": ["integer", "null"]},
                    "claim": _CLAIM,
                },
            },
        },
        "triples": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["subject", "subject_type", "predicate", "object", "object_type", "source_position"],
                "properties": {
                    "subject": _TEXT,
                    "subject_type": {"type": "string", "maxLength": 50},
                    "predicate": {"type": "string", "minLength": 1, "maxLength": 100},
                    "object": _TEXT,
                    "object_type": {"type": "string", "maxLength": 50},
                    "source_position": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}


def _accepting_replies_without_claims(schema: dict) -> dict:
    """The schema replies are validated against: the same, except that a memory may omit ``claim``
    (a model or server that ignores it still extracts; its memories simply make no claim)."""
    tolerant = json.loads(json.dumps(schema))
    item = tolerant["properties"]["memories"]["items"]
    item["required"] = [key for key in item["required"] if key != "claim"]
    return tolerant


_VALIDATOR = jsonschema.Draft202012Validator(_accepting_replies_without_claims(EXTRACTION_SCHEMA))

SYSTEM_PROMPT = """You extract long-term memory from one exchange between a user and an AI agent.
Return JSON only, matching the given schema.

memories: durable knowledge worth recalling in later conversations, each a short self-contained sentence
that still makes sense outside this conversation:
- name its subject: never "I", "my", "we" or "you"; write the speaker's name when the message says who
  speaks ("Melanie: we celebrated my daughter's birthday" -> "Melanie celebrated her daughter's
  birthday"), "The user" for the user, the agent's process id for the agent ("billing_agent refunded
  the duplicate charge");
- resolve relative times against the exchange's time given below ("yesterday (7 May 2023)");
- not memory: greetings, thanks, reactions and small talk ("Wow, that's cool!"), questions, the
  user's orders and tasks to the agent ("Research: X", "Review the authentication module"), a photo
  caption alone, and a sentence that only makes sense beside its neighbour (join them instead).
- kind "fact": something true about the project, customer or world ("The API uses JWT tokens").
- kind "preference": what the user or team likes, dislikes or wants ("The customer prefers email updates").
- kind "skill": what someone can do or is experienced in ("The team knows Kubernetes").
- kind "attribute": what the agent itself is or does ("Handles billing questions").
- source_position: the position of the message it comes from.
- relation: "new"; or "update" when it refines or replaces one of the existing memories; or
  "contradiction" when it disagrees with one. Then related_memory_id is that memory's id, else null.
- claim: when the memory states the current value of something that holds one value at a time
  (a provider, a date, a city, a plan, a price, a status, an owner), that state, so that a later
  value supersedes it:
  subject: the noun phrase the value belongs to, lower case, without "the/our" ("payments",
    "invoice date", "caroline");
  attribute: the relation in lower snake_case ("go_through", "due_on", "live_in", "costs"), or "*"
    when the memory only says it changed ("We moved payments to Adyen", "The date changed to March 12");
  value: the value as written ("Adyen", "March 12", "$49/month");
  value_type: date, money, number, name, place or other.
  Use the same subject and attribute as an existing memory about the same thing. Events and
  lasting facts ("Caroline went to Paris", "The API uses JWT tokens" when several may be used) have
  claim null.
Do not repeat an existing memory unchanged. Skip code.
Never extract anything inside <memori_context> blocks.

triples: subject-predicate-object relations between two noun phrases (names or noun chunks, never a
pronoun, an adjective or a reaction word): ("Melanie", "celebrated", "Melanie's daughter's birthday"),
("authentication module", "issues", "JWT tokens"); predicate a verb or preposition in lower snake_case
("located_in", "does_not_want"); types are coarse: technology, organisation, person, place, concept."""


class LLMExtractor:
    name = "llm"

    def __init__(self, *, base_url: str | None, api_key: str, model: str, timeout: float):
        self.model = model
        self.client = openai.OpenAI(
            base_url=base_url or None, api_key=api_key or "not-needed", timeout=timeout, max_retries=0
        )
        self.response_format: dict = {
            "type": "json_schema",
            "json_schema": {"name": "memori_extraction", "schema": EXTRACTION_SCHEMA, "strict": True},
        }

    @classmethod
    def from_settings(cls) -> LLMExtractor:
        from django.conf import settings

        return cls(
            base_url=settings.MEMORI_LLM_BASE_URL,
            api_key=settings.MEMORI_LLM_API_KEY,
            model=settings.MEMORI_LLM_MODEL,
            timeout=settings.MEMORI_LLM_TIMEOUT_SECONDS,
        )

    def __call__(self, exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
        related = list(related)[:MAX_RELATED_IN_PROMPT]
        conversation = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": build_prompt(exchange, related)},
        ]
        reason = ""
        for attempt in range(1 + MALFORMED_RETRIES):
            content = self._complete(conversation)
            try:
                return parse_extraction(content, exchange, related)
            except MalformedOutput as exc:
                reason = str(exc)
                logger.warning("LLM extraction attempt %d was malformed: %s", attempt + 1, reason)
                conversation += [
                    {"role": "assistant", "content": content[:4000]},
                    {"role": "user", "content": f"That reply was invalid: {reason}. Answer again with JSON only."},
                ]
        raise ExtractionFailed(
            f"LLM output did not match the extraction schema after {1 + MALFORMED_RETRIES} tries: {reason}"
        )

    def _complete(self, conversation: list[dict]) -> str:
        try:
            response = self.client.chat.completions.create(
                model=self.model, messages=conversation, temperature=0, response_format=self.response_format
            )
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise ExtractorUnavailable(f"LLM server unreachable: {exc}") from exc
        except (openai.InternalServerError, openai.RateLimitError) as exc:
            raise ExtractorUnavailable(f"LLM server answered {exc.status_code}: {_error_text(exc)}") from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise ExtractorUnavailable(f"LLM server answered {exc.status_code}: {_error_text(exc)}") from exc
            raise ExtractionFailed(f"LLM server refused the request ({exc.status_code}): {_error_text(exc)}") from exc
        if not response.choices:
            return ""
        message = response.choices[0].message
        if getattr(message, "refusal", None):
            return f"(refused: {message.refusal})"
        return message.content or ""


class MalformedOutput(ValueError):
    """The model's reply is not a valid extraction; the message says why."""


def build_prompt(exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> str:
    messages, budget = [], MAX_PROMPT_CHARS
    for message in exchange.messages:
        text = _CONTEXT_BLOCK.sub("", message.content).strip()
        if not text:
            continue
        text = text[:budget]
        budget -= len(text)
        messages.append({"position": message.position, "role": message.role, "content": text})
        if budget <= 0:
            break
    existing = [{"id": m.memory_id, "kind": m.kind, "content": m.content[:500]} for m in related]
    when = exchange.occurred_at.strftime("%A %d %B %Y, %H:%M %Z") if exchange.occurred_at else "unknown"
    return (
        f"Agent (process): {exchange.process_id}\nEntity: {exchange.entity_id}\nExchange time: {when}\n\n"
        f"Existing memories of this entity (mark updates and contradictions by id):\n"
        f"{json.dumps(existing, ensure_ascii=False)}\n\n"
        f"Exchange messages:\n{json.dumps(messages, ensure_ascii=False)}"
    )


def parse_extraction(content: str, exchange: ExchangeInput, related: Sequence[RelatedMemory]) -> Extraction:
    """The model's reply as an Extraction; MalformedOutput says what is wrong with it."""
    text = content.strip()
    fenced = _CODE_FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedOutput(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise MalformedOutput(f"schema violation at {where}: {error.message[:300]}")
    positions = {message.position for message in exchange.messages}
    related_ids = {memory.memory_id for memory in related}
    memories = []
    for index, item in enumerate(data["memories"]):
        _check_position(item["source_position"], positions, f"memories/{index}")
        related_id = item["related_memory_id"] if item["relation"] != "new" else None
        if item["relation"] != "new" and related_id not in related_ids:
            raise MalformedOutput(f"memories/{index}: related_memory_id {related_id} is not an existing memory")
        memories.append(
            ExtractedMemory(
                kind=item["kind"],
                content=item["content"].strip(),
                source_position=item["source_position"],
                relation=item["relation"],
                related_memory_id=related_id,
                claim=_claim(item.get("claim"), f"memories/{index}/claim"),
            )
        )
    triples = []
    for index, item in enumerate(data["triples"]):
        _check_position(item["source_position"], positions, f"triples/{index}")
        triples.append(
            ExtractedTriple(
                subject=item["subject"].strip(),
                subject_type=item["subject_type"].strip() or "concept",
                predicate=item["predicate"].strip(),
                object=item["object"].strip(),
                object_type=item["object_type"].strip() or "concept",
                source_position=item["source_position"],
            )
        )
    return Extraction(memories=tuple(memories), triples=tuple(triples))


def _claim(data: dict | None, where: str) -> StateClaim | None:
    if data is None:
        return None
    parts = {key: " ".join(data[key].split()) for key in ("subject", "attribute", "value")}
    empty = [key for key, value in parts.items() if not value]
    if empty:
        raise MalformedOutput(f"{where}: {empty[0]} is blank")
    attribute = "*" if parts["attribute"] == "*" else normalize_predicate(parts["attribute"])
    if not attribute:
        raise MalformedOutput(f"{where}: attribute {parts['attribute']!r} is not a relation")
    return StateClaim(
        subject=parts["subject"].lower(),
        attribute=attribute,
        value=parts["value"],
        value_type=data["value_type"],
    )


def _check_position(position: int, positions: set[int], where: str) -> None:
    if position not in positions:
        raise MalformedOutput(f"{where}: source_position {position} is not a message of the exchange")


def _error_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        body = body.get("message") or body.get("error") or body
    return str(body or exc.message)[:300]
