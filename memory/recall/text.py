"""Lexical tokens for BM25: keep names, ids and rare words whole, stem common English suffixes.

"customer_456" gives the whole id plus its parts ("customer", "456"), so a query for the id finds it
exactly while a query for "customer" still matches; "JWT" stays "jwt"; "charged", "charges" and
"charging" all become "charg". The stemmer is deliberately light (no dictionary, no download).
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[0-9a-z]+(?:[_\-./@:'][0-9a-z]+)*")
_SPLIT = re.compile(r"[_\-./@:']")
_MEMORI_BLOCK = re.compile(r"<memori_context>.*?</memori_context>", re.DOTALL)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being
    below between both but by can could did do does doing don't down during each few for from further had
    has have having he her here hers herself him himself his how i i'm if in into is isn't it it's its
    itself just let's me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that that's the their theirs them
    themselves then there there's these they they're this those through to too under until up very was
    we we're were what what's when where which while who whom why will with would you you're your yours
    yourself yourselves also get got yes oh ok okay really thanks thank hey hi""".split()
)

_SUFFIXES = (("ies", "i"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))
_MIN_STEM = 3


def strip_memori_blocks(text: str) -> str:
    """Remove our own injected context so it is never indexed or served back as new work."""
    return _MEMORI_BLOCK.sub(" ", text) if "<memori_context>" in text else text


def stem(word: str) -> str:
    """A light suffix stripper: plural and -ed/-ing forms meet at one stem; ids are left alone."""
    if len(word) <= _MIN_STEM or not word.isalpha():
        return word
    if word.endswith("ss"):
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= _MIN_STEM:
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > _MIN_STEM and word[-1] in "ey":
        word = word[:-1] if word[-1] == "e" else word[:-1] + "i"
    if len(word) > _MIN_STEM and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Index terms of `text` in order (with repeats): stems of words, whole ids plus their parts."""
    terms: list[str] = []
    for match in _WORD.findall(text.lower()):
        terms.extend(word_terms(match))
    return terms


@lru_cache(maxsize=200_000)
def word_terms(word: str) -> tuple[str, ...]:
    """The terms of one lower-cased word (memoised: an entity's vocabulary is far smaller than its
    text, so indexing 100,000 memories stems each distinct word once)."""
    if word in STOPWORDS:
        return ()
    if not _SPLIT.search(word):
        return (stem(word),)
    stripped = word.replace("'", "")
    if "'" in word and not _SPLIT.search(stripped):
        return (stem(stripped),)
    return (word, *(stem(part) for part in _SPLIT.split(word) if part and part not in STOPWORDS))
