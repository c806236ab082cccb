"""Offline token counts, to keep recalled memory blocks within a prompt's token budget.

Counts are WordPiece tokens of the shipped uncased BERT tokenizer: close to, but not the same as,
a given LLM's own count, so a budget should keep a margin rather than rely on exact equality.
Characters outside its vocabulary (most emoji and many CJK characters) count one token per word.
"""

from __future__ import annotations

from functools import lru_cache

from memory.embedding.static import load_tokenizer

# Recall counts the same memory lines again and again; tokenizing one costs ~50 us.
_CACHED_MAX_CHARS = 2000


def count_tokens(text: str) -> int:
    """Number of tokens in `text`, without [CLS]/[SEP]; 0 for an empty or blank text."""
    if not text:
        return 0
    if len(text) <= _CACHED_MAX_CHARS:
        return _count_short(text)
    return _count(text)


def _count(text: str) -> int:
    return len(load_tokenizer().encode(text, add_special_tokens=False).ids)


_count_short = lru_cache(maxsize=16384)(_count)
