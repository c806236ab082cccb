"""Memori: shared memory for multi-agent LLM systems.

from memori import Memori
from openai import OpenAI

client = OpenAI()
mem = Memori().llm.register(client)          # MEMORI_API_URL / MEMORI_API_KEY from the environment
mem.attribution(entity_id="project_alpha", process_id="research_agent")
client.chat.completions.create(model="gpt-4o-mini", messages=[...])   # recalls, then records
"""

from memori.augmentation import AugmentationResult
from memori.client import Memori
from memori.errors import (
    AugmentationTimeout,
    InvalidAttribution,
    MemoriApiError,
    MemoriConfigError,
    MemoriError,
    MemoriUnavailable,
)
from memori.recall import RecalledMemory

__all__ = [
    "AugmentationResult",
    "AugmentationTimeout",
    "InvalidAttribution",
    "Memori",
    "MemoriApiError",
    "MemoriConfigError",
    "MemoriError",
    "MemoriUnavailable",
    "RecalledMemory",
]
