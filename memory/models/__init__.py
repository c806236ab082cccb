from memory.models.activity import HourlyExchanges
from memory.models.audit import AuditEntry
from memory.models.conversations import Conversation, Exchange, Message
from memory.models.episodes import Episode
from memory.models.graph import Node, Predicate, Triple
from memory.models.identity import EXTERNAL_ID_MAX_LENGTH, Entity, Process, Session
from memory.models.jobs import AugmentationJob
from memory.models.memories import SHARED_KINDS, Memory, MemoryKind
from memory.models.provenance import Contradiction, Provenance
from memory.models.recall import RecallEvent, RecallHit
from memory.models.tenancy import ApiKey, Tenant, hash_api_key

__all__ = [
    "EXTERNAL_ID_MAX_LENGTH",
    "SHARED_KINDS",
    "ApiKey",
    "AuditEntry",
    "AugmentationJob",
    "Contradiction",
    "Conversation",
    "Entity",
    "Episode",
    "Exchange",
    "HourlyExchanges",
    "Memory",
    "MemoryKind",
    "Message",
    "Node",
    "Predicate",
    "Process",
    "Provenance",
    "RecallEvent",
    "RecallHit",
    "Session",
    "Tenant",
    "Triple",
    "hash_api_key",
]
