"""Import of an entity export document (memory.services.export) into a tenant, in one transaction.

References inside the document ("ref" fields: the exporting database's ids) are mapped to the new
rows, so provenance keeps pointing at the right session, exchange, message and job. Augmentation
jobs keep their status; any that were not finished are published again once the import commits.
"""

from __future__ import annotations

import base64
import binascii

from django.db import IntegrityError, transaction

from memory.extraction.normalize import content_hash, normalize_text
from memory.models import (
    AugmentationJob,
    Contradiction,
    Conversation,
    Entity,
    Episode,
    Exchange,
    Memory,
    MemoryKind,
    Message,
    Process,
    Provenance,
    Session,
    Tenant,
    Triple,
)
from memory.services.activity_counts import exchange_counted
from memory.services.batch_storing import node_ids, node_key, predicate_ids
from memory.services.identity import process_get_or_create
from memory.services.publishing import publish_jobs_on_commit

STAT_FIELDS = (
    "content",
    "mention_count",
    "recall_count",
    "first_seen_at",
    "last_seen_at",
    "last_recalled_at",
    "is_contradicted",
    "embedding_model",
)


class InvalidImport(ValueError):
    """The document cannot be imported as sent; the message says what to fix."""


class EntityAlreadyExists(InvalidImport):
    pass


class _Importer:
    def __init__(self, tenant: Tenant, document: dict) -> None:
        self.tenant = tenant
        self.document = document
        self.processes: dict[str, Process] = {}
        self.sessions: dict[str, Session] = {}
        self.exchanges: dict[int, Exchange] = {}
        self.messages: dict[int, Message] = {}
        self.jobs: dict[int, AugmentationJob] = {}
        self.memories: dict[int, Memory] = {}
        self.triples: dict[int, Triple] = {}
        self.unfinished_jobs: list[int] = []

    def process(self, external_id: str | None) -> Process | None:
        if external_id is None:
            return None
        if external_id not in self.processes:
            self.processes[external_id] = process_get_or_create(tenant=self.tenant, external_id=external_id)
        return self.processes[external_id]

    def run(self) -> Entity:
        data = self.document["entity"]
        if Entity.objects.filter(tenant=self.tenant, external_id=data["entity_id"]).exists():
            raise EntityAlreadyExists(
                f"entity {data['entity_id']!r} already exists; delete it first or change entity.entity_id."
            )
        self.entity = Entity.objects.create(
            tenant=self.tenant,
            external_id=data["entity_id"],
            created_at=data["created_at"],
            last_activity_at=data["last_activity_at"],
        )
        for session in self.document["sessions"]:
            self.import_session(session)
        for row in self.document["memories"]:
            self.import_memory(row)
        self.link_supersessions()
        for row in self.document["triples"]:
            self.import_triple(row)
        for row in self.document["contradictions"]:
            self.import_contradiction(row)
        publish_jobs_on_commit(self.unfinished_jobs)
        return self.entity

    def import_session(self, data: dict) -> None:
        process = self.process(data["process_id"])
        session = Session.objects.create(
            entity=self.entity,
            process=process,
            uuid=data["session_id"],
            started_at=data["started_at"],
            last_activity_at=data["last_activity_at"],
        )
        self.sessions[str(session.uuid)] = session
        conversation_data = data.get("conversation")
        if conversation_data is None:
            return
        exchanges = conversation_data["exchanges"]
        conversation = Conversation.objects.create(
            session=session,
            entity=self.entity,
            process=process,
            started_at=conversation_data["started_at"],
            last_message_at=conversation_data["last_message_at"],
            message_count=sum(len(exchange["messages"]) for exchange in exchanges),
        )
        for exchange_data in exchanges:
            self.import_exchange(exchange_data, conversation, session, process)

    def import_exchange(self, data: dict, conversation: Conversation, session: Session, process: Process) -> None:
        fields = (
            "idempotency_key",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
            "occurred_at",
            "recorded_at",
        )
        exchange = Exchange.objects.create(
            conversation=conversation,
            entity=self.entity,
            process=process,
            session=session,
            **{name: data[name] for name in fields},
        )
        exchange_counted(exchange)
        self.exchanges[data["ref"]] = exchange
        created = Message.objects.bulk_create(
            [
                Message(
                    conversation=conversation, exchange=exchange, **{k: v for k, v in message.items() if k != "ref"}
                )
                for message in data["messages"]
            ]
        )
        for message_data, message in zip(data["messages"], created, strict=True):
            self.messages[message_data["ref"]] = message
        episode = data.get("episode")
        if episode is not None:
            Episode.objects.create(
                entity=self.entity,
                process=process,
                session=session,
                exchange=exchange,
                content=episode["content"],
                occurred_at=episode["occurred_at"],
                embedding=self.vector(episode["embedding"], episode["content"]),
                embedding_model=episode["embedding_model"],
            )
        job_data = data.get("job")
        if job_data is not None:
            job = AugmentationJob.objects.create(exchange=exchange, entity=self.entity, process=process, **job_data)
            self.jobs[data["ref"]] = job
            if not job.is_finished:
                self.unfinished_jobs.append(job.pk)

    def stats(self, data: dict) -> dict:
        values = {name: data[name] for name in STAT_FIELDS}
        values["first_process"] = self.process(data.get("first_process_id"))
        values["embedding"] = self.vector(data["embedding"], data["content"])
        return values

    def vector(self, embedding: str | None, content: str) -> bytes | None:
        try:
            return base64.b64decode(embedding, validate=True) if embedding else None
        except (binascii.Error, ValueError):
            raise InvalidImport(f"embedding of {content[:40]!r} is not valid base64.")

    def import_memory(self, data: dict) -> None:
        owner = self.process(data.get("process_id"))
        if (data["kind"] == MemoryKind.ATTRIBUTE) != (owner is not None):
            raise InvalidImport(f"memory {data['ref']}: attributes need a process_id, and only attributes have one.")
        stats = self.stats(data)
        claim = data.get("claim") or {}
        memory = Memory.objects.create(
            entity=self.entity,
            kind=data["kind"],
            owner_process=owner,
            normalized=normalize_text(data["content"]),
            content_hash=content_hash(data["content"]),
            valid_from=data.get("valid_from") or stats["first_seen_at"],
            valid_to=data.get("valid_to"),
            claim_subject=claim.get("subject", ""),
            claim_attribute=claim.get("attribute", ""),
            claim_value=claim.get("value", ""),
            claim_value_type=claim.get("value_type", ""),
            **stats,
        )
        self.memories[data["ref"]] = memory
        self.import_mentions(data["mentions"], memory=memory)

    def link_supersessions(self) -> None:
        """superseded_by refers to another memory of the document, by ref."""
        linked = []
        for data in self.document["memories"]:
            newer = self.memories.get(data.get("superseded_by_ref"))
            if newer is not None:
                memory = self.memories[data["ref"]]
                memory.superseded_by = newer
                linked.append(memory)
        Memory.objects.bulk_update(linked, ["superseded_by"])

    def import_triple(self, data: dict) -> None:
        names = {
            node_key(self.entity, data[end]): (data[end].strip(), data[f"{end}_type"] or "concept")
            for end in ("subject", "object")
        }
        nodes = node_ids(names)
        predicate = data["predicate"].strip().lower()[:100]
        triple = Triple.objects.create(
            entity=self.entity,
            subject_id=nodes[node_key(self.entity, data["subject"])][0],
            predicate_id=predicate_ids({predicate})[predicate],
            object_id=nodes[node_key(self.entity, data["object"])][0],
            **self.stats(data),
        )
        self.triples[data["ref"]] = triple
        self.import_mentions(data["mentions"], triple=triple)

    def import_mentions(self, mentions: list[dict], **target) -> None:
        rows = []
        for data in mentions:
            session_id = data.get("session_id")
            session = self.sessions.get(str(session_id)) if session_id else None
            exchange = self.exchanges.get(data.get("exchange_ref"))
            message = self.messages.get(data.get("message_ref"))
            job = self.jobs.get(data.get("job_exchange_ref"))
            rows.append(
                Provenance(
                    entity=self.entity,
                    process=self.process(data["process_id"]),
                    session=session,
                    exchange=exchange,
                    message=message,
                    job=job,
                    source=data["source"],
                    mentioned_at=data["mentioned_at"],
                    **target,
                )
            )
        Provenance.objects.bulk_create(rows)

    def import_contradiction(self, data: dict) -> None:
        Contradiction.objects.create(
            entity=self.entity,
            reason=data["reason"],
            memory_a=self.memories.get(data.get("memory_a_ref")),
            memory_b=self.memories.get(data.get("memory_b_ref")),
            triple_a=self.triples.get(data.get("triple_a_ref")),
            triple_b=self.triples.get(data.get("triple_b_ref")),
            detected_at=data["detected_at"],
            resolved_at=data.get("resolved_at"),
            resolution_note=data.get("resolution_note") or "",
        )


def entity_import(*, tenant: Tenant, document: dict) -> Entity:
    """Create the entity and everything it remembered; nothing is written if any part fails."""
    try:
        with transaction.atomic():
            return _Importer(tenant, document).run()
    except IntegrityError as exc:
        raise InvalidImport(f"the document contradicts itself (duplicate memories, sessions or positions): {exc}")
