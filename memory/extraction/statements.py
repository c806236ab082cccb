"""From a parsed sentence to a self-contained statement, or to nothing.

A memory must still make sense once read outside its conversation, so a sentence is kept only
when it is a statement (a finite verb with its own subject; not a question, an order or a
fragment), when its subject can be named (the speaker for "I"/"we", the listener for "you" when we
know who that is) and when it says something (a noun, a name, a number or a content verb beyond
the subject: "that's so cool" and "I'm so happy for you" say nothing that lasts). The kept
sentence is rewritten in the third person, with the verb agreeing ("I'm Dana" -> "The user's name
is Dana", "I love my job" -> "Caroline loves Caroline's job"); interjections and vocatives at its
edges are dropped ("Wow, I ... , Mel!").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spacy.tokens import Span, Token

SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves"})
SECOND_PERSON = frozenset({"you", "your", "yours", "yourself", "yourselves", "ya", "u"})
ANAPHORS = frozenset("it this that these those they them he she him her".split())  # point back to a neighbour
UNRESOLVED_SUBJECTS = frozenset(
    "it this that these those they them he she him her which who what one there here everything something"
    " nothing anything everyone someone anyone all both".split()
)
# Verbs that carry no content on their own: a sentence needs more than them to be a memory.
LIGHT_VERBS = frozenset(
    "be have do get go feel think know guess mean say tell seem look sound hope wish want need let make try"
    " come see bet love like appreciate thank agree remember wonder imagine believe hear".split()
)
# Opening words that only frame or react ("Yeah, ...", "Oh wow, ...", "Anyway, ...").
_DISCOURSE = frozenset(
    "yeah yes yep yup no nope oh ah aw aww wow hey hi hello well so anyway anyways okay ok alright right sure"
    " haha lol omg gosh totally absolutely honestly actually btw thanks thank".split()
)
_IRREGULAR_3SG = {"be": "is", "have": "has", "do": "does", "go": "goes"}
_CONTRACTED = {"'m": "am", "'re": "are", "'ve": "have", "'ll": "will", "n't": "not", "ca": "can", "wo": "will"}
_CONTRACTED |= {"sha": "shall", "'s": "is"}


@dataclass(frozen=True)
class Voice:
    """Who "I" and "you" are in a message. ``speaker``: the name "I" stands for ("Caroline",
    "The user", "research_agent"); ``listener``: who "you" is, or None when unknown (then a
    sentence about "you" cannot be resolved and is not kept)."""

    speaker: str
    listener: str | None = None


@dataclass(frozen=True)
class Statement:
    """A kept sentence: its rewritten text and the parse it came from (for triples and claims)."""

    text: str
    sentence: Span
    subject: Token | None
    subject_text: str
    continues: bool = False  # leans on the statement before it ("It stands for love and faith.")
    set_apart: tuple[Span, ...] = ()  # coordinated clauses cut out by ``private`` (see rewrite)


def third_person_singular(verb: str, lemma: str) -> str:
    """'love' -> 'loves', 'go' -> 'goes', 'try' -> 'tries', 'have' -> 'has'."""
    lemma = lemma.lower() if lemma else verb.lower()
    if lemma in _IRREGULAR_3SG:
        return _IRREGULAR_3SG[lemma]
    base = verb.lower() if verb.lower() == lemma else lemma
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        return base + "es"
    if base.endswith("y") and len(base) > 1 and base[-2] not in "aeiou":
        return base[:-1] + "ies"
    return base + "s"


def subject_of(verb: Token) -> Token | None:
    """The verb's own subject, or the subject of the verb it is conjoined to ("I went and bought")."""
    seen = 0
    while verb is not None and seen < 4:
        for child in verb.children:
            if child.dep_ in SUBJECT_DEPS:
                return child
        if verb.dep_ != "conj" or verb.head.i == verb.i:
            return None
        verb, seen = verb.head, seen + 1
    return None


def is_question(sentence: Span) -> bool:
    text = sentence.text.rstrip()
    if text.endswith("?"):
        return True
    first = next((t for t in sentence if not t.is_punct), None)
    if first is None:
        return False
    # "How did you...", "Did you...": a wh-word or an auxiliary before the subject opens a question
    if first.tag_ in ("WRB", "WP", "WDT") and first.i < sentence.root.i and not text.endswith("."):
        return True
    subject = subject_of(sentence.root)
    return first.pos_ == "AUX" and first.dep_ == "aux" and subject is not None and first.i < subject.i


def _edge_trimmed(sentence: Span, subject: Token | None) -> tuple[int, int]:
    """Token range of the sentence without opening interjections/discourse words and vocatives,
    and without a closing vocative (", Caroline!") or trailing interjection."""
    start, end = sentence.start, sentence.end
    doc = sentence.doc
    protected = subject.i if subject is not None else sentence.root.i
    while start < min(end, protected):
        token = doc[start]
        lower = token.lower_
        nxt = doc[start + 1] if start + 1 < end else None
        if token.is_punct or token.pos_ in ("INTJ", "CCONJ") or token.dep_ == "intj" or lower in _DISCOURSE:
            start += 1
        elif token.pos_ == "PROPN" and nxt is not None and nxt.is_punct and token.dep_ not in SUBJECT_DEPS:
            start += 1  # "Mel, I went..." - a vocative
        else:
            break
    while end > start and (doc[end - 1].is_punct or doc[end - 1].pos_ == "INTJ"):
        end -= 1
    # ", Caroline" / ", Mel" at the very end, addressing the listener
    if end - start > 2 and doc[end - 1].pos_ == "PROPN" and doc[end - 2].text == ",":
        if doc[end - 1].dep_ not in SUBJECT_DEPS and doc[end - 1].head.i != end - 1:
            end -= 2
    return start, end


# Clauses that can go without leaving their head incomplete (adjuncts, coordinated and loose
# clauses); a complement ("let you know", "want you to") cannot.
_SIDE_CLAUSES = frozenset({"advcl", "relcl", "conj", "parataxis"})


def _without_clauses_about_the_listener(tokens: list[Token], root: Token) -> list[Token] | None:
    """Side clauses that speak of an unnamed "you" are cut ("I took a trip while you were
    winning" -> "I took a trip"); None when "you" is in the main clause itself."""
    drop: set[int] = set()
    for token in tokens:
        if token.lower_ not in SECOND_PERSON or token.i in drop:
            continue
        clause = token
        while clause.head.i != clause.i and clause.head.i != root.i and clause.dep_ not in _SIDE_CLAUSES:
            if clause.dep_ in ("ccomp", "xcomp"):
                return None
            clause = clause.head
        if clause.dep_ not in _SIDE_CLAUSES:
            return None
        drop.update(t.i for t in clause.subtree)
        left = clause.left_edge.i - 1  # the "and"/"while"/comma that joined it
        while left >= 0 and (root.doc[left].dep_ in ("cc", "punct", "mark")) and left not in drop:
            drop.add(left)
            left -= 1
    kept = [t for t in tokens if t.i not in drop]
    while kept and (kept[-1].is_punct or kept[-1].dep_ == "cc"):
        kept.pop()
    return kept or None


_PRONOUN_OBJECTS = frozenset("it them this that these those they he she him her one".split())
_CORE_DEPS = frozenset({"dobj", "obj", "dative", "attr", "pobj", "nsubj", "nsubjpass"})


def _leans_on_context(root: Token, tokens: list[Token]) -> bool:
    """A core argument of the main clause is a pronoun only the conversation resolves ("Joanna
    would recommend it", "Caroline bets they bring joy", "John will not give up on it")."""
    kept = {t.i for t in tokens}
    for token in tokens:
        if token.lower_ not in _PRONOUN_OBJECTS or token.pos_ not in ("PRON", "DET") or token.dep_ not in _CORE_DEPS:
            continue
        if token.dep_ == "det":
            continue
        governor = token.head if token.dep_ != "pobj" else token.head.head
        clause = governor
        while clause.dep_ in ("xcomp", "prep", "aux") and clause.head.i != clause.i:
            clause = clause.head
        if clause.i == root.i or (clause.dep_ in ("ccomp", "conj") and clause.head.i == root.i and clause.i in kept):
            return True
    return False


def _is_platitude(tokens: list[Token], subject: Token) -> bool:
    """A remark about things in general: a bare common-noun subject (no determiner, possessor or
    name) and nothing particular in the sentence (no name, number or person of the conversation)."""
    if subject.dep_ == "expl":  # "There's so much adrenaline flowing"
        return not any(t.pos_ in ("PROPN", "NUM") or t.lower_ in FIRST_PERSON for t in tokens)
    if subject.pos_ not in ("NOUN",) or subject.lower_ in FIRST_PERSON:
        return False
    if any(c.dep_ in ("det", "poss", "compound", "nummod") for c in subject.children):
        return False
    return not any(t.pos_ in ("PROPN", "NUM") or t.lower_ in FIRST_PERSON for t in tokens)


def _has_content(tokens: list[Token], subject: Token | None) -> bool:
    """Something beyond the subject: a noun, a name, a number, or a verb that is not light."""
    skip = set(t.i for t in subject.subtree) if subject is not None else set()
    for token in tokens:
        if token.i in skip or token.lower_ in FIRST_PERSON or token.lower_ in SECOND_PERSON:
            continue
        if token.pos_ in ("NOUN", "PROPN", "NUM"):
            return True
        if token.pos_ == "VERB" and token.lemma_.lower() not in LIGHT_VERBS:
            return True
    return False


def _finite_of(subject: Token) -> Token:
    """The word that agrees with the subject: its head verb's first auxiliary, or the verb."""
    verb = subject.head
    for child in verb.children:
        if child.dep_ in ("aux", "auxpass") and child.i < verb.i and child.i > subject.i:
            return child
    return verb


def _speaker_possessive(name: str) -> str:
    return "The user's" if name == "The user" else f"{name}'s"


def rewrite(
    sentence: Span,
    voice: Voice,
    *,
    generic_only: bool = False,
    follow_on: bool = False,
    private: Callable[[str], bool] | None = None,
) -> Statement | None:
    """The sentence as a self-contained statement in the third person, or None when it is not a
    statement worth keeping (see the module docstring). ``generic_only``: also drop general remarks
    about nobody in particular ("Tough times can be a gateway to awesome things"), which in a
    person in small talk are opinions of the moment, not knowledge. ``follow_on``: the sentence
    comes right after a kept statement of the same message, so one whose "it"/"this"/"they" points
    back is returned marked ``continues`` (to be joined to that statement) instead of dropped.
    ``private``: a test of a coordinated clause's text ("..., and I can approve credits up to
    500 euros"); a clause it accepts is cut out of the statement and returned in ``set_apart``."""
    if is_question(sentence):
        return None
    root = sentence.root
    if root.pos_ not in ("VERB", "AUX"):
        return None
    subject = subject_of(root)
    if subject is None:
        return None  # an order ("Research top 5 competitors") or a fragment ("Since I was 17.")
    if any(child.dep_ == "mark" for child in root.children) and root.dep_ == "ROOT":
        return None  # a subordinate clause on its own ("Because it was late.")
    subject_word = subject.lower_
    continues = False
    if subject_word in UNRESOLVED_SUBJECTS and subject.dep_ != "expl":
        if not (follow_on and subject_word in ANAPHORS):
            return None  # "It was so powerful": who or what "it" is stays in the conversation
        continues = True
    if subject.dep_ == "expl" and subject_word not in ("there",):
        return None
    start, end = _edge_trimmed(sentence, subject)
    tokens = [sentence.doc[i] for i in range(start, end)]
    if not tokens:
        return None
    if voice.listener is None:
        tokens = _without_clauses_about_the_listener(tokens, root)
        if tokens is None:
            return None  # about "you", whom this message does not name
    set_apart: tuple[Span, ...] = ()
    if private is not None:
        tokens, set_apart = _set_apart(tokens, root, private)
        if not tokens:
            return None
    if not _has_content(tokens, subject):
        return None
    if _leans_on_context(root, tokens):
        if not follow_on:
            return None
        continues = True
    if generic_only and not continues and _is_platitude(tokens, subject):
        return None
    text = _render(tokens, subject, voice, root)
    if text is None:
        return None
    subject_text = (
        voice.speaker
        if subject_word in FIRST_PERSON
        else ((voice.listener or "") if subject_word in SECOND_PERSON else " ".join(t.text for t in subject.subtree))
    )
    return Statement(
        text=text,
        sentence=sentence,
        subject=subject,
        subject_text=subject_text,
        continues=continues,
        set_apart=set_apart,
    )


def _set_apart(tokens: list[Token], root: Token, private: Callable[[str], bool]) -> tuple[list[Token], tuple]:
    """Coordinated clauses with a subject of their own that ``private`` claims, cut out."""
    doc = root.doc
    cut: list[Span] = []
    drop: set[int] = set()
    for clause in root.children:
        if clause.dep_ not in ("conj", "parataxis") or not any(c.dep_ in SUBJECT_DEPS for c in clause.children):
            continue
        span = doc[clause.left_edge.i : clause.right_edge.i + 1]
        if private(span.text):
            cut.append(span)
            drop.update(range(span.start, span.end))
            left = span.start - 1
            while left >= 0 and doc[left].dep_ in ("cc", "punct") and left not in drop:
                drop.add(left)
                left -= 1
    kept = [t for t in tokens if t.i not in drop]
    while kept and (kept[-1].is_punct or kept[-1].dep_ == "cc"):
        kept.pop()
    return kept, tuple(cut)


def _identity(tokens: list[Token], subject: Token, root: Token, voice: Voice) -> str | None:
    """ "I'm Dana" -> "The user's name is Dana": a first-person copula whose complement is a name."""
    if subject.lower_ not in ("i",) or root.lemma_ != "be":
        return None
    attrs = [child for child in root.children if child.dep_ == "attr"]
    if len(attrs) != 1 or attrs[0].pos_ != "PROPN":
        return None
    name = " ".join(t.text for t in attrs[0].subtree if t.pos_ == "PROPN")
    if not name or any(t.i > attrs[0].right_edge.i for t in tokens if not t.is_punct):
        return None
    return f"{_speaker_possessive(voice.speaker)} name is {name}"


def _render(tokens: list[Token], subject: Token, voice: Voice, root: Token) -> str | None:
    identity = _identity(tokens, subject, root, voice)
    if identity is not None:
        return identity + "."
    agree: set[int] = set()
    for token in tokens:
        if token.dep_ in SUBJECT_DEPS and token.lower_ in ("i", "we", "you"):
            replacement = voice.speaker if token.lower_ != "you" else voice.listener
            if token.lower_ == "you" and replacement in (None, "The user"):
                continue  # "you" as the user: "the user" agrees as a third person too
            agree.add(_finite_of(token).i)
            for conj in token.head.conjuncts:
                if conj.tag_ in ("VBP", "VB") and not any(c.dep_ in SUBJECT_DEPS for c in conj.children):
                    agree.add(conj.i)
    words: list[str] = []
    spaces: list[str] = []
    for index, token in enumerate(tokens):
        named = any(voice.speaker in word for word in words)
        word = _replacement(token, voice, agree, at_start=index == 0, named=named)
        if word is None:
            return None
        changed = word != token.text or (index > 0 and words[-1] != tokens[index - 1].text)
        if changed and words and not spaces[-1] and word[:1].isalpha() and words[-1][-1:].isalnum():
            spaces[-1] = " "  # "I've" -> "Joanna has", "it's" -> "it is"; "gonna" stays one word
        words.append(word)
        spaces.append(token.whitespace_)
    text = "".join(w + s for w, s in zip(words, spaces, strict=True)).strip()
    text = " ".join(text.split())
    if not text:
        return None
    if not any(name and text.startswith(name) for name in (voice.speaker, voice.listener)):
        text = text[0].upper() + text[1:]  # a process id ("billing_agent") keeps its spelling
    if text[-1] not in ".!":
        text += "."
    elif text[-1] == "!":
        text = text[:-1] + "."
    return text


def _replacement(token: Token, voice: Voice, agree: set[int], *, at_start: bool, named: bool = False) -> str | None:
    """The word to write for ``token``; ``named``: the speaker was already named in this sentence,
    so "my" reads "their" ("The user can not access their account")."""
    lower = token.lower_
    speaker = voice.speaker
    listener = voice.listener
    if lower in ("i", "we") and token.pos_ == "PRON":
        return "the user" if speaker == "The user" and not at_start else speaker
    if lower in ("myself", "ourselves") and token.pos_ == "PRON":
        return "themself" if token.dep_ != "npadvmod" else "personally"
    if lower in ("me", "us") and token.pos_ == "PRON":
        return speaker if speaker != "The user" or at_start else "the user"
    if lower in ("my", "our") and token.pos_ in ("PRON", "DET") and named:
        return "their"
    if lower in ("my", "our", "mine", "ours") and token.pos_ in ("PRON", "DET"):
        possessive = _speaker_possessive(speaker)
        return possessive if at_start or speaker != "The user" else possessive[0].lower() + possessive[1:]
    if lower in SECOND_PERSON and token.pos_ in ("PRON", "DET"):
        if listener is None:
            return None
        if lower in ("your", "yours"):
            possessive = _speaker_possessive(listener)
            return possessive if at_start or listener != "The user" else "the user's"
        return listener if at_start or listener != "The user" else "the user"
    if token.i in agree:
        return _agreeing(token)
    if lower in _CONTRACTED and token.text.startswith(("'", "n", "c", "w", "s")) and token.pos_ in ("AUX", "PART"):
        if lower == "'s" and token.pos_ != "AUX":
            return token.text
        return _CONTRACTED[lower]
    if lower == "'d" and token.pos_ == "AUX":
        return "would" if token.tag_ == "MD" else "had"
    return token.text


def _agreeing(token: Token) -> str:
    """The finite verb of a first/second-person subject, made to agree with a third person."""
    lower = token.lower_
    if lower in ("am", "'m", "are", "'re"):
        return "is"
    if lower == "were":
        return "was"
    if lower in ("have", "'ve") and token.tag_ == "VBP":
        return "has"
    if lower in ("'ll",):
        return "will"
    if lower == "'d":
        return "would" if token.tag_ == "MD" else "had"
    if lower == "ca":
        return "can"
    if lower == "wo":
        return "will"
    if token.tag_ == "VBP":
        return third_person_singular(token.text, token.lemma_)
    return token.text
