"""From a message's raw text to the sentences the rules read.

Only prose is memory: the ``<memori_context>`` block we injected ourselves, code fences, HTML,
images, links and emphasis are stripped first; markdown is then cut into paragraphs, list items,
headings and table rows, and those into sentences (not at "e.g." or "Dr."). ``working_text`` is
the form of a clause the rules match on; the stored content keeps the original wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_CONTENT_CHARS = 500
MAX_MESSAGE_CHARS = 50_000
MIN_WORDS = 3

# --- Cleaning: what is not prose is not memory ------------------------------------------------
_CONTEXT_BLOCK = re.compile(r"<memori_context\b[^>]*>.*?(?:</memori_context\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_CODE_FENCE = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[^\n]*$|\Z)", re.MULTILINE | re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>\n]{0,200})?/?>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060\ufeff]")
_IMAGE = re.compile(r"!\[[^\]\n]{0,200}\]\([^)\n]{0,500}\)")
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\([^)\n]{0,500}\)")
_EMPHASIS = re.compile(r"\*\*|__|~~|`|[*_](?=\S)(?<!\w[*_])|[*_](?!\w)(?<=\S[*_])")  # each starts with a literal

# --- Blocks and sentences ---------------------------------------------------------------------
_HEADING = re.compile(r"^#{1,6}\s+(.*?)[\s#]*$")
_BULLET = re.compile(r"^(?:[-*+\u2022\u2023\u25e6\u25aa]|\d{1,3}[.)]|[a-z]\))\s+(?:\[[ xX]\]\s+)?(.*)$")
_RULE_LINE = re.compile(r"^(?:[-*_=]\s*){3,}$")
_TABLE_SEPARATOR = re.compile(r"^\|?[\s:|-]+\|?$")
_SENTENCE_END = re.compile(r"(?<=[.!?\u0964\u06d4\u061f])\s+|(?<=[\u3002\uff01\uff1f])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|mr|mrs|ms|dr|prof|inc|ltd|co|st|no|approx|incl|dept|fig|jr|sr)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)
# "Caroline: I went ...": who speaks, when a message names it (rules.py judges whether it is a name).
SPEAKER_LABEL = re.compile(r"^\s*(?P<name>[A-Z][\w'.-]{0,40}(?: [A-Z][\w'.-]{0,40}){0,2})\s*:\s+(?=\S)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")

# --- Working form -----------------------------------------------------------------------------
_CONTRACTION = re.compile(
    r"\b(?:can't|won't|let's|(?:it|that|there|here|what|who|this)'s)\b|n't\b|'(?:m|re|ve|ll|d)\b", re.IGNORECASE
)
_EXPANSIONS = {"can't": "can not", "won't": "will not", "let's": "let us", "n't": " not", "'m": " am", "'re": " are"}
_EXPANSIONS |= {"'ve": " have", "'ll": " will", "'d": " would"}
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_CONNECTIVE = re.compile(
    r"^(?:also|additionally|however|currently|now|today|overall|finally|first|second|third|next|then|in addition"
    r"|in summary|in conclusion|for example|for instance|in fact|moreover|furthermore|meanwhile|basically"
    r"|essentially|importantly|notably|to summarize|in short)\b,?\s+",
    re.IGNORECASE,
)


def clean_message(text: object) -> str:
    """The prose of a message: our own injected block, code, HTML, images and markdown emphasis
    removed, links reduced to their text, capped at MAX_MESSAGE_CHARS. Anything but a str is ""."""
    if not isinstance(text, str):
        return ""
    text = _CONTEXT_BLOCK.sub("\n", text[: MAX_MESSAGE_CHARS * 4])  # memory we injected ourselves
    if "```" in text or "~~~" in text:
        text = _CODE_FENCE.sub("\n", text)
    text = _CONTROL.sub(" ", _HTML_TAG.sub(" ", text[: MAX_MESSAGE_CHARS * 2]))
    return _EMPHASIS.sub("", _LINK.sub(r"\1", _IMAGE.sub(" ", text)))[:MAX_MESSAGE_CHARS]


def markdown_blocks(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for each paragraph, list item, heading and table row of markdown text."""
    kind, lines, header = "para", [], None
    for raw in text.split("\n"):
        line = " ".join(raw.split()).lstrip("> ").strip()
        row, heading, bullet = line.startswith("|"), _HEADING.match(line), _BULLET.match(line)
        if lines and (not line or row or heading or bullet or _RULE_LINE.match(line)):
            yield kind, " ".join(lines)
            kind, lines = "para", []
        if not row:
            header = None
        if not line or _RULE_LINE.match(line) or (row and _TABLE_SEPARATOR.match(line)):
            continue
        if row:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if header is None:
                header = cells
            else:
                pairs = zip(header, cells, strict=False)
                yield "row", "; ".join(f"{h}: {c}" if h else c for h, c in pairs if c)
        elif heading:
            yield "heading", heading[1]
        elif bullet:
            kind, lines = "item", [bullet[1]]
        elif kind == "item" and not raw[:1].isspace():
            yield kind, " ".join(lines)
            kind, lines = "para", [line]
        else:
            lines.append(line)
    if lines:
        yield kind, " ".join(lines)


def split_sentences(text: str) -> list[str]:
    """Sentences of one block; an abbreviation ("e.g.", "Dr.", "J.") does not end a sentence."""
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(text):
        if not piece:
            continue
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _expand(match: re.Match) -> str:
    word = match.group(0)
    lowered = word.lower()
    if lowered.endswith("'s") and lowered != "let's":
        return word[:-2] + " is"
    return _EXPANSIONS[lowered]


def working_text(text: str) -> str:
    """The clause as the rules read it: straight quotes, contractions spelled out, no connective,
    no closing punctuation. Content keeps the original wording."""
    text = text.translate(_CURLY)
    if "'" in text:
        text = _CONTRACTION.sub(_expand, text)
    text = _CONNECTIVE.sub("", " ".join(text.split()))
    return text.rstrip(" .!?;:,\u2026\u3002\uff01\uff1f\u061f\u0964\u06d4")


def enough_words(work: str) -> bool:
    """At least MIN_WORDS words (or four CJK/Thai characters, scripts written without spaces):
    shorter fragments carry no memory."""
    return len(work.split(None, MIN_WORDS - 1)) >= MIN_WORDS or len(_CJK.findall(work[:200])) >= 4


def clip(text: str, limit: int = MAX_CONTENT_CHARS) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit - 1].rstrip() + "\u2026"


def sentence_case(text: str) -> str:
    """First letter upper-cased, for a clause whose lead-in ("Sure, ...") was cut off."""
    return text[:1].upper() + text[1:] if text[:1].islower() else text
