"""Who a `Memori` object speaks for: the entity (shared by all its agents), the process (this agent) and
the conversation (session) its calls belong to."""

from __future__ import annotations

import logging
import uuid

from memori.errors import InvalidAttribution

logger = logging.getLogger("memori")

MAX_ID_LENGTH = 200


def validate_id(value: object, *, label: str) -> str:
    if not isinstance(value, str):
        raise InvalidAttribution(f"{label} must be a string, got {type(value).__name__}.")
    cleaned = value.strip()
    if not cleaned:
        raise InvalidAttribution(f"{label} must not be empty.")
    if len(cleaned) > MAX_ID_LENGTH:
        raise InvalidAttribution(f"{label} must be at most {MAX_ID_LENGTH} characters, got {len(cleaned)}.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned):
        raise InvalidAttribution(f"{label} must not contain control characters.")
    return cleaned


class Attribution:
    """The entity, process and session of one `Memori` object. Memory is on once entity and process are set."""

    def __init__(self) -> None:
        self.entity_id: str | None = None
        self.process_id: str | None = None
        self.session_id = str(uuid.uuid4())
        self._warned_off = False

    def set(self, entity_id: object, process_id: object) -> None:
        self.entity_id = validate_id(entity_id, label="entity_id")
        self.process_id = validate_id(process_id, label="process_id")

    def new_session(self) -> str:
        self.session_id = str(uuid.uuid4())
        return self.session_id

    def set_session(self, session_id: object) -> None:
        try:
            self.session_id = str(uuid.UUID(str(session_id)))
        except (ValueError, TypeError):
            raise InvalidAttribution(f"session_id must be a UUID, got {str(session_id)[:50]!r}.") from None

    @property
    def is_set(self) -> bool:
        return bool(self.entity_id and self.process_id)

    def memory_on(self) -> bool:
        """For wrapped calls: without attribution they pass through untouched, and a warning says so once."""
        if self.is_set:
            return True
        if not self._warned_off:
            self._warned_off = True
            logger.warning(
                "memori: no attribution set, memory is off for this client "
                "(call mem.attribution(entity_id=..., process_id=...) to turn it on)"
            )
        return False

    def require(self, what: str) -> None:
        """For explicit operations (record, remember, recall): without attribution they refuse, saying why."""
        if not self.is_set:
            raise InvalidAttribution(
                f"{what}() needs attribution: call mem.attribution(entity_id=..., process_id=...)."
            )
