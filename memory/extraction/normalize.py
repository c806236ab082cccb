"""Text normalisation for deduplication: one memory per content, one node per name.

Normalising must be script-neutral: Chinese, Cyrillic or Arabic text is folded (NFKC, case-fold,
whitespace) but never transliterated or reduced to ASCII, so different sentences in any script
keep different hashes. It is idempotent, so a stored ``normalized`` value hashes like the original.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

_QUOTES_AND_DASHES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)
_SPACE_RUN = re.compile(r"\s+")
_LIST_MARKER = re.compile(r"^(?:[-*+\u2022\u2023\u25e6\u25aa\u00b7>]+|\d{1,3}[.)]|[a-z]\))\s+")
# Stripped from the ends: punctuation (Unicode category P*) and markdown symbols, but not the
# characters that carry meaning at the end of a name or amount ("C#", "50%", "AT&T", "C++", "$5").
_KEEP_AT_EDGES = frozenset("#%&@/\\")
_MARKDOWN_EDGE = frozenset("*_`~|>=^")
_BRACKETS = {")": "(", "]": "[", "}": "{", "\uff09": "\uff08", "\u300d": "\u300c", "\u300f": "\u300e"}
_OPENERS = {opener: closer for closer, opener in _BRACKETS.items()}
_LEADING_DETERMINER = re.compile(
    r"^(?:the|a|an|our|my|your|their|its|his|her|this|that|these|those)\s+(?=\S)", re.IGNORECASE
)
_PREDICATE_JUNK = re.compile(r"[^\w]+")


def _is_edge_junk(char: str) -> bool:
    if char.isspace() or char in _MARKDOWN_EDGE:
        return True
    return char not in _KEEP_AT_EDGES and unicodedata.category(char).startswith("P")


def _strip_edges(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_edge_junk(text[start]):
        closer = _OPENERS.get(text[start])
        if closer is not None and closer in text[start + 1 : end]:
            break  # balanced: "(beta) release" keeps its parenthesis
        start += 1
    while end > start and _is_edge_junk(text[end - 1]):
        opener = _BRACKETS.get(text[end - 1])
        if opener is not None and opener in text[start : end - 1]:
            break  # balanced: "PostgreSQL (v16)" keeps its parenthesis
        end -= 1
    return text[start:end]


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cc":
        return " "
    return "" if category in ("Cf", "Cs") else char


def _fold(text: str) -> str:
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES_AND_DASHES)
    # Format characters (zero-width spaces, bidi marks, BOM) are invisible: drop them. Controls
    # (NUL, tabs, newlines) separate words: make them spaces.
    if not text.isprintable():
        text = "".join(_visible(c) for c in text)
    return _SPACE_RUN.sub(" ", text).strip()


def _strip_markers(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _strip_edges(_LIST_MARKER.sub("", text)).strip()
    return text


@functools.lru_cache(maxsize=8192)  # pure; the extractor and dedup ask for the same texts many times
def normalize_text(text: str) -> str:
    """The dedup key of a memory's content: NFKC, case-folded, whitespace collapsed, surrounding
    punctuation and list markers removed. Idempotent; keeps every script as it is."""
    if not text:
        return ""
    previous = None
    result = str(text)
    for _ in range(4):  # NFKC and case-folding can feed each other; stop at the fixed point
        if result == previous:
            break
        previous = result
        result = _strip_markers(_fold(result))
        if result.isascii():
            break  # lower-case ASCII without edge junk folds to itself
    return result


def content_hash(text: str) -> str:
    """sha256 hex digest of the normalised text: equal for the same content written differently."""
    return hashlib.sha256(normalize_text(text).encode("utf-8", "surrogatepass")).hexdigest()


def normalize_node_name(name: str) -> str:
    """The dedup key of a graph node: like ``normalize_text`` without a leading article or
    possessive, so "The database", "our database" and "Database" are one node."""
    text = normalize_text(name)
    while True:
        stripped = _LEADING_DETERMINER.sub("", text)
        if stripped == text:
            return text
        text = normalize_text(stripped)


def normalize_predicate(predicate: str) -> str:
    """A predicate as a lower snake_case verb phrase: "Located In" -> "located_in"."""
    return _PREDICATE_JUNK.sub("_", normalize_text(predicate)).strip("_")[:100]
