"""Sentences the small English model misparses, kept as written when they still read as plain
statements.

The small pipeline sometimes loses a sentence's verb: "The module issues JWT tokens that expire
..." read as one noun phrase, "finished" tagged as an adjective, "converts" as a plural noun. Such a
sentence has no parsed subject, so statements.rewrite() drops it; here it is kept as written when
it still reads as a third-person statement, judged with the lemmatizer's own verb tables.
"""

from __future__ import annotations

from spacy.tokens import Span, Token

from memory.extraction.statements import (
    FIRST_PERSON,
    SECOND_PERSON,
    UNRESOLVED_SUBJECTS,
    Statement,
    is_question,
    subject_of,
)


def as_written(sentence: Span, *, present_forms: bool = False) -> Statement | None:
    """A sentence the small model misparsed (its root is not a verb, "The module issues JWT tokens
    that expire ..." read as one noun phrase, or its verb lost its subject, "The staging cluster
    runs Kubernetes 1.30") kept as written when it still reads as a plain third-person statement:
    a finite verb after the first word, no pronoun of the conversation, at least five words."""
    root = sentence.root
    if root.pos_ in ("VERB", "AUX") and subject_of(root) is not None:
        return None  # parsed well: rewrite() has judged it
    if is_question(sentence) or not sentence.text.rstrip().endswith("."):
        return None
    words = [t for t in sentence if not t.is_punct]
    if len(words) < 5 or words[0].lower_ in UNRESOLVED_SUBJECTS or words[0].pos_ in ("INTJ", "VERB", "AUX"):
        return None
    if any(t.lower_ in FIRST_PERSON or t.lower_ in SECOND_PERSON for t in words):
        return None
    finite = any(t.tag_ in ("VBZ", "VBP", "VBD") or is_verb_form(t, present=present_forms) for t in words[1:])
    if not finite or words[0].tag_ == "VB":
        return None
    text = " ".join(sentence.text.split())
    return Statement(text=text, sentence=sentence, subject=None, subject_text="")


def is_verb_form(token: Token, *, present: bool = False) -> bool:
    """A word the tagger took for something else that English spells as a past tense ("finished"
    tagged as an adjective), by the lemmatizer's own tables: an -ed or irregular form of a known
    verb. ``present``: also an -s form ("Usage-based pricing converts better than ..."), when the
    word after it cannot go on a noun phrase (an adjective, adverb, determiner or preposition);
    -s forms are plural nouns as often, so only where the sentence is no small talk."""
    if token.pos_ not in ("ADJ", "NOUN") or not token.is_lower:
        return False
    exceptions, index, rules = _verb_tables()
    word = token.lower_
    if word in exceptions:
        return True
    if any(word.endswith(old) and word[: len(word) - len(old)] + new in index for old, new in rules if old == "ed"):
        return True
    following = token.nbor(1) if token.i + 1 < len(token.doc) else None
    if not present or token.tag_ != "NNS" or following is None or following.pos_ not in _AFTER_A_VERB:
        return False
    return any(word.endswith(old) and word[: len(word) - len(old)] + new in index for old, new in rules if old == "s")


_AFTER_A_VERB = frozenset({"ADJ", "ADV", "DET", "ADP", "NUM"})


_VERB_TABLES: tuple | None = None


def _verb_tables() -> tuple:
    global _VERB_TABLES
    if _VERB_TABLES is None:
        from memory.extraction.nlp import pipeline

        lookups = pipeline().get_pipe("lemmatizer").lookups
        irregular = {form for form in lookups.get_table("lemma_exc")["verb"] if not form.endswith(("ing", "s"))}
        index = frozenset(lookups.get_table("lemma_index")["verb"])
        _VERB_TABLES = (irregular, index, lookups.get_table("lemma_rules")["verb"])
    return _VERB_TABLES
