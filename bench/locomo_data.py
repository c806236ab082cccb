"""The LoCoMo data and its ingest through the real pipeline, shared by the LoCoMo benchmarks.

Each conversation is an entity, each speaker a process, each LoCoMo session a session; every turn
is recorded as one exchange (one user message "<speaker>: <text>", the dia_id kept in
Message.name, the session's original date as its time) and augmented inline with the configured
extractor (`job_augment`, what the Celery task runs).

Importing this module needs no Django; `setup_django()` and `ingest()` do.
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("LOCOMO_FILE", ROOT.parent / "shared" / "locomo" / "locomo_conv0-4.json"))
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
DIA_ID = re.compile(r"D\d+:\d+")


def setup_django() -> None:
    """Configure Django for a bench script run from the repository (settings, in-memory broker) and migrate."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("DEBUG", "1")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def session_time(text: str) -> datetime:
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def sessions_of(conversation: dict):
    """(number, start time, turns) of each session of a conversation, in order."""
    numbers = sorted(int(key.split("_")[1]) for key in conversation if re.fullmatch(r"session_\d+", key))
    for number in numbers:
        yield number, session_time(conversation[f"session_{number}_date_time"]), conversation[f"session_{number}"]


def turn_text(turn: dict) -> str:
    """A turn as it is recorded: "Speaker: text [shares a photo: caption]"."""
    text = turn["text"]
    if turn.get("blip_caption"):
        text += f" [shares a photo: {turn['blip_caption']}]"
    return f"{turn['speaker']}: {text}"


def evidence_of(question: dict) -> set[str]:
    """The dia_ids of the turns that hold the question's answer."""
    return set(DIA_ID.findall(" ".join(question.get("evidence", []))))


def ingest(tenant, samples: list[dict]) -> dict:
    """Record and augment (inline) every turn of `samples` for `tenant`; the count and the time taken."""
    from memory.services.augmentation import job_augment
    from memory.services.recording import ExchangeInput, MessageInput, record_exchange

    started = time.perf_counter()
    turns = 0
    for sample in samples:
        for number, at, turns_of_session in sessions_of(sample["conversation"]):
            session_id = uuid.uuid5(uuid.NAMESPACE_URL, f"locomo/{sample['sample_id']}/session_{number}")
            for offset, turn in enumerate(turns_of_session):
                occurred_at = at + timedelta(seconds=30 * offset)
                recorded = record_exchange(
                    tenant=tenant,
                    data=ExchangeInput(
                        entity_id=sample["sample_id"],
                        process_id=turn["speaker"],
                        session_id=session_id,
                        messages=[MessageInput(role="user", content=turn_text(turn), name=turn["dia_id"])],
                        idempotency_key=f"{sample['sample_id']}/{turn['dia_id']}",
                        occurred_at=occurred_at,
                    ),
                )
                job_augment(recorded.job.pk)
                turns += 1
    return {"turns": turns, "seconds": time.perf_counter() - started}
