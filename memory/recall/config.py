"""Recall's settings, read in one place, once per call (tests and operators change them at run
time). The defaults are settings.py's; per-call arguments (`RecallRequest`) override some of them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RecallSettings:
    token_budget: int  # MEMORI_RECALL_TOKEN_BUDGET: tokens of the injected block
    limit: int  # MEMORI_RECALL_LIMIT: at most this many items (0: as many as the budget holds)
    handoff_share: float  # MEMORI_RECALL_HANDOFF_SHARE: of the budget for other agents' recent findings
    handoff_seconds: float  # MEMORI_RECALL_HANDOFF_SECONDS: how recent a handoff is
    episodes: bool  # MEMORI_RECALL_EPISODES: recall past exchanges as they were said
    episode_share: float  # MEMORI_RECALL_EPISODE_SHARE: of the budget for them
    fresh_weight: float  # MEMORI_RECALL_FRESH_WEIGHT: head start of another agent's fresh finding
    fresh_half_life_seconds: float  # MEMORI_RECALL_FRESH_HALF_LIFE_SECONDS: how fast it fades
    cache_entities: int  # MEMORI_RECALL_CACHE_ENTITIES: entity indexes each process keeps
    cache_rows: int  # MEMORI_RECALL_CACHE_ROWS: rows they may hold in all


def recall_settings() -> RecallSettings:
    return RecallSettings(
        token_budget=settings.MEMORI_RECALL_TOKEN_BUDGET,
        limit=settings.MEMORI_RECALL_LIMIT,
        handoff_share=share(settings.MEMORI_RECALL_HANDOFF_SHARE),
        handoff_seconds=float(settings.MEMORI_RECALL_HANDOFF_SECONDS),
        episodes=bool(settings.MEMORI_RECALL_EPISODES),
        episode_share=share(settings.MEMORI_RECALL_EPISODE_SHARE),
        fresh_weight=max(float(settings.MEMORI_RECALL_FRESH_WEIGHT), 0.0),
        fresh_half_life_seconds=max(float(settings.MEMORI_RECALL_FRESH_HALF_LIFE_SECONDS), 1.0),
        cache_entities=settings.MEMORI_RECALL_CACHE_ENTITIES,
        cache_rows=settings.MEMORI_RECALL_CACHE_ROWS,
    )


def share(value: float) -> float:
    """A share of the budget: between 0 and 1."""
    return min(max(float(value), 0.0), 1.0)
