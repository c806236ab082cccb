"""Ranking an entity's memories for one query.

1. Dense: cosine of the query embedding with every visible row; lexical: BM25 of the query terms.
   Candidates: the union of the top-`depth` rows of each list.
2. Fusion ("score", the default): the mean of the cosine and of the BM25 score scaled to 0..1 by
   the best score the query could reach (every query term present, a term no memory holds counting
   as missed). Measured on LoCoMo conversation 0 (bench/locomo.py) it beats reciprocal-rank fusion
   (evidence recall@10 "any" 0.70 vs 0.65): RRF gives a row matching one common query word as much
   credit as one matching the rare, decisive word, while the scaled score keeps how much of the
   query matched. "rrf" stays available (`RankingConfig.fusion`).
3. Light priors, worth a few ranks at most: mention count (said by several processes or many
   times; LoCoMo +0.05 recall@10), recency (relative to the entity's newest memory, so old imported
   data is not penalised as a whole), the caller's own contributions; contradicted memories lose a
   little; an episode (an exchange as it was said, memory/models/episodes.py) loses a little less,
   so a memory wins a tie with the exchange it was extracted from.
4. Threshold: a row must match lexically or be densely similar enough to be relevant at all, so a
   query about nothing the entity knows returns nothing rather than the least-bad memories.
   Fresh findings (recent.py): a row another process mentioned in the last hours gets a prior
   that halves every `MEMORI_RECALL_FRESH_HALF_LIFE_SECONDS`, added to its fused score and to its
   cosine where the threshold is applied, and is a candidate whatever its place in either list:
   the next agent asks about a colleague's new finding in its own words.
5. Co-mentions: memories extracted from the same exchange are context for each other (decisions
   made together belong together: "Implement authentication with JWT tokens. Use bcrypt for
   passwords."). The best `comention_anchors` results may each bring up to `comention_siblings`
   rows from their exchange that did not pass on their own, scored at `comention_share` of the
   anchor's fused score (so always below it) and marked `via` the anchor.
6. Supersession: a superseded memory loses `superseded_penalty`, and its current replacement is
   placed right above it, brought in if it was not a result (`current_first`): a stale fact
   restated six times never outranks its update.
7. Near-duplicates (cosine >= `duplicate_similarity` to a higher-ranked result, and the same numbers)
   are collapsed, so paraphrases of one fact never fill the budget; a memory takes the place of a
   higher-ranked triple it nearly duplicates (the sentence says in full what the triple abbreviates).
   Episodes are only compared with episodes here: an exchange is longer than what was extracted from
   it, and whether a memory already tells it is decided on its words (compose.py).
The token budget is applied last, by `fit_to_budget`, on the rendered lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memory.recall.index import EntityIndex
from memory.recall.recent import NO_FRESH_FINDINGS, FreshFindings
from memory.recall.validity import current_row
from memory.recall.vector import top_rows

DAY = 86400.0
_VECTOR_BLOCK = 64  # candidate vectors fetched at once while collapsing near-duplicates
_TOKEN = re.compile(r"[\w.:/-]+")


@dataclass(frozen=True)
class RankingConfig:
    fusion: str = "score"  # "score" (weighted cosine + BM25 scaled to 0..1) or "rrf" (reciprocal rank)
    depth: int = 200  # rows taken from each list before fusion
    rrf_k: float = 60.0
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    mention_weight: float = 0.1  # full at MENTION_SATURATION mentions
    recency_weight: float = 0.05  # full for the newest memory, halves every RECENCY_HALF_LIFE_DAYS
    own_weight: float = 0.02
    contradicted_penalty: float = 0.05
    superseded_penalty: float = 0.1  # a memory a later one replaced (validity.py)
    episode_penalty: float = 0.01  # an exchange as it was said: a memory stating the same wins the tie
    min_dense: float = 0.35  # rows without a lexical match need at least this cosine
    duplicate_similarity: float = 0.92
    comention_anchors: int = 5  # best results that may bring rows extracted from the same exchange
    comention_siblings: int = 3  # at most this many co-mentioned rows per anchor
    comention_share: float = 0.5  # a co-mentioned row scores this share of its anchor's fused score


MENTION_SATURATION = 10.0
RECENCY_HALF_LIFE_DAYS = 30.0
DEFAULT_CONFIG = RankingConfig()


@dataclass(frozen=True)
class Ranked:
    row: int
    dense: float
    lexical: float
    fused: float
    via: int | None = None  # for a co-mentioned row: the row of the result that brought it
    handoff_from: str | None = None  # for a handoff (handoff.py): the other process whose recent work it is
    current_of: int | None = None  # for a memory brought in as the current version of a superseded result: its row


def rank(
    index: EntityIndex,
    *,
    query: str,
    query_vector: np.ndarray | None,
    allowed: np.ndarray,
    caller_process_id: int | None,
    limit: int,
    config: RankingConfig | None = None,
    fresh: FreshFindings = NO_FRESH_FINDINGS,
) -> list[Ranked]:
    """The best visible rows for `query`, best first, deduplicated, at most `limit` (before budget).
    `fresh`: other processes' fresh findings and their prior (recent.py)."""
    config = config or DEFAULT_CONFIG
    if index.size == 0 or limit <= 0 or not allowed.any():
        return []
    if query_vector is None or not query.strip():
        scored = _by_priors(index, allowed, caller_process_id, limit * 3, config)
    else:
        scored = _fused(index, query, query_vector, allowed, caller_process_id, config, fresh)
    kept = _collapse_duplicates(index, scored, limit, config.duplicate_similarity)
    return current_first(index, kept, allowed)[:limit]


Scored = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # rows, dense, lexical, fused,
# via (anchor row of a co-mentioned row, -1 otherwise); best first


def _fused(index, query, query_vector, allowed, caller_process_id, config: RankingConfig, fresh) -> Scored:
    dense_rows, _ = index.vectors.search(query_vector, config.depth, allowed)
    lexical_all = index.lexical.scores(query)
    lexical_all[~allowed] = 0.0
    matched = np.flatnonzero(lexical_all > 0)
    lexical_rows = matched[top_rows(lexical_all[matched], config.depth)] if matched.size else matched
    rows = np.union1d(np.union1d(dense_rows, lexical_rows), fresh.rows[allowed[fresh.rows]])
    if not rows.size:
        return _empty()
    dense = index.vectors.similarity(query_vector, rows).astype(np.float32)
    lexical = lexical_all[rows]
    if config.fusion == "rrf":
        relevance = np.zeros(rows.size, dtype=np.float32)
        for weight, ranked_rows in ((config.dense_weight, dense_rows), (config.lexical_weight, lexical_rows)):
            positions = np.searchsorted(rows, ranked_rows)
            relevance[positions] += weight / (config.rrf_k + 1 + np.arange(ranked_rows.size))
        relevance /= (config.dense_weight + config.lexical_weight) / (config.rrf_k + 1)
    else:
        relevance = _score_fusion(index, query, dense, lexical, config)
    bonus = fresh.of(rows, index.size)
    relevant = (lexical > 0) | (dense + bonus >= config.min_dense)
    rows, dense, lexical, relevance = rows[relevant], dense[relevant], lexical[relevant], relevance[relevant]
    fused = relevance + _priors(index, rows, caller_process_id, config) + bonus[relevant]
    order = np.argsort(-fused, kind="stable")
    scored = rows[order], dense[order], lexical[order], fused[order], np.full(rows.size, -1, dtype=np.int64)
    return _with_comentions(index, scored, query_vector, lexical_all, allowed, config)


def _score_fusion(index, query: str, dense: np.ndarray, lexical: np.ndarray, config: RankingConfig) -> np.ndarray:
    scale = index.lexical.best_possible(query) or 1.0
    return (config.dense_weight * dense + config.lexical_weight * lexical / scale) / (
        config.dense_weight + config.lexical_weight
    )


def scores_of(
    index: EntityIndex,
    rows: np.ndarray,
    *,
    query: str,
    query_vector: np.ndarray | None,
    caller_process_id: int | None,
    config: RankingConfig | None = None,
    fresh: FreshFindings = NO_FRESH_FINDINGS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense, lexical and fused scores of given rows, as ranking would score them (threshold
    aside): for rows admitted for another reason than relevance, so their record shows how
    relevant they were. The lexical scores are computed only when there are rows."""
    config = config or DEFAULT_CONFIG
    zeros = np.zeros(rows.size, dtype=np.float32)
    if not rows.size or query_vector is None or not query.strip():
        return zeros, zeros, zeros + _priors(index, rows, caller_process_id, config)
    dense = index.vectors.similarity(query_vector, rows).astype(np.float32)
    lexical = index.lexical.scores(query)[rows]
    fused = _score_fusion(index, query, dense, lexical, config) + _priors(index, rows, caller_process_id, config)
    return dense, lexical, fused + fresh.of(rows, index.size)


def current_first(index: EntityIndex, ranked: Sequence[Ranked], allowed: np.ndarray) -> list[Ranked]:
    """`ranked` with each superseded result's current memory right above it: moved up if it ranked
    lower, brought in (scored as the superseded one, `current_of` it) if it was not a result."""
    if not ranked or not index.is_superseded[[r.row for r in ranked]].any():
        return list(ranked)
    results = {r.row: r for r in ranked}
    ordered: list[Ranked] = []
    placed: set[int] = set()
    for r in ranked:
        if r.row in placed:
            continue
        current = current_row(index, r.row, allowed) if index.is_superseded[r.row] else None
        if current is not None and current not in placed:
            ordered.append(
                results.get(current)
                or Ranked(row=current, dense=r.dense, lexical=r.lexical, fused=r.fused, current_of=r.row)
            )
            placed.add(current)
        ordered.append(r)
        placed.add(r.row)
    return ordered


def is_near_duplicate(
    index: EntityIndex, row: int, of_rows: Sequence[int], config: RankingConfig | None = None
) -> bool:
    """Whether `row` repeats one of `of_rows`, by the rule `rank` collapses results with."""
    if not of_rows:
        return False
    threshold = (config or DEFAULT_CONFIG).duplicate_similarity
    text = " ".join(index.contents[row].lower().split())
    others = np.asarray(of_rows, dtype=np.int64)
    if any(" ".join(index.contents[other].lower().split()) == text for other in of_rows):
        return True
    similarity = index.vectors.vectors(others) @ index.vectors.vectors(np.asarray([row]))[0]
    numbers = _numbers(text)
    return any(_numbers(index.contents[other].lower()) == numbers for other in others[similarity >= threshold].tolist())


def _with_comentions(index, scored: Scored, query_vector, lexical_all, allowed, config: RankingConfig) -> Scored:
    """Add, after the best anchors, the rows extracted with them that did not qualify on their own.

    Per anchor, its co-mentioned rows the caller may see, best cosine to the query first, at most
    `comention_siblings`; a row brought by several anchors keeps its best score."""
    rows, dense, lexical, fused, via = scored
    if config.comention_anchors <= 0 or config.comention_siblings <= 0 or not rows.size:
        return scored
    present = set(rows.tolist())
    brought: dict[int, tuple[float, int]] = {}  # row -> (score, anchor row)
    for anchor, anchor_score in zip(
        rows[: config.comention_anchors].tolist(), fused[: config.comention_anchors].tolist(), strict=True
    ):
        siblings = index.comentioned_with(anchor)
        siblings = siblings[allowed[siblings]] if siblings.size else siblings
        siblings = np.asarray([row for row in siblings.tolist() if row not in present], dtype=np.int64)
        if not siblings.size:
            continue
        closest = np.argsort(-index.vectors.similarity(query_vector, siblings), kind="stable")
        score = config.comention_share * anchor_score
        for row in siblings[closest[: config.comention_siblings]].tolist():
            if row not in brought or brought[row][0] < score:
                brought[row] = (score, anchor)
    if not brought:
        return scored
    extra = np.fromiter(brought, dtype=np.int64, count=len(brought))
    rows = np.concatenate([rows, extra])
    dense = np.concatenate([dense, index.vectors.similarity(query_vector, extra).astype(np.float32)])
    lexical = np.concatenate([lexical, lexical_all[extra]])
    fused = np.concatenate([fused, np.asarray([brought[row][0] for row in extra.tolist()], dtype=np.float32)])
    via = np.concatenate([via, np.asarray([brought[row][1] for row in extra.tolist()], dtype=np.int64)])
    order = np.argsort(-fused, kind="stable")
    return rows[order], dense[order], lexical[order], fused[order], via[order]


def _by_priors(index, allowed, caller_process_id, count, config) -> Scored:
    """No query text: the most established, most recent memories."""
    rows = np.flatnonzero(allowed)
    priors = _priors(index, rows, caller_process_id, config)
    best = top_rows(priors, count)
    zeros = np.zeros(best.size, dtype=np.float32)
    return rows[best], zeros, zeros, priors[best], np.full(best.size, -1, dtype=np.int64)


def _empty() -> Scored:
    nothing = np.zeros(0, dtype=np.int64)
    return nothing, *(np.zeros(0, dtype=np.float32) for _ in range(3)), nothing


def _priors(index: EntityIndex, rows: np.ndarray, caller_process_id, config: RankingConfig) -> np.ndarray:
    mentions = np.minimum(np.log(np.maximum(index.mention_counts[rows], 1.0)) / math.log(MENTION_SATURATION), 1.0)
    age_days = (index.newest_seen - index.last_seen[rows]) / DAY
    recency = np.exp2(-age_days / RECENCY_HALF_LIFE_DAYS)
    own = (index.first_process_ids[rows] == (caller_process_id or -1)).astype(np.float32)
    return (
        config.mention_weight * mentions
        + config.recency_weight * recency
        + config.own_weight * own
        - config.contradicted_penalty * index.contradicted[rows]
        - config.superseded_penalty * index.is_superseded[rows]
        - config.episode_penalty * index.is_episode[rows]
    ).astype(np.float32)


def _collapse_duplicates(index: EntityIndex, scored: Scored, limit: int, threshold: float) -> list[Ranked]:
    rows, dense, lexical, fused, via = scored
    kept: list[Ranked] = []
    kept_texts: set[str] = set()
    kept_vectors: np.ndarray | None = None
    block, block_start = np.zeros((0, 0), dtype=np.float32), -1  # vectors of rows, fetched a block at a time
    for i, row in enumerate(rows.tolist()):
        text = " ".join(index.contents[row].lower().split())
        if text in kept_texts:
            continue
        start = i - i % _VECTOR_BLOCK
        if start != block_start:
            block, block_start = index.vectors.vectors(rows[start : start + _VECTOR_BLOCK]), start
        vector = block[i - start]
        if kept_vectors is None:
            kept_vectors = np.zeros((limit, vector.shape[0]), dtype=np.float32)
        anchor = int(via[i])
        result = Ranked(
            row=row,
            dense=float(dense[i]),
            lexical=float(lexical[i]),
            fused=float(fused[i]),
            via=anchor if anchor >= 0 else None,
        )
        similar = np.flatnonzero(kept_vectors[: len(kept)] @ vector >= threshold) if kept else ()
        if len(similar):
            numbers, episode = _numbers(text), index.is_episode[row]
            repeated = [
                j
                for j in similar.tolist()
                if index.is_episode[kept[j].row] == episode and _numbers(index.contents[kept[j].row].lower()) == numbers
            ]
            if repeated:
                # A memory says in full what a near-duplicate triple abbreviates: it takes the triple's place.
                if index.is_memory[row] and not index.is_memory[[kept[j].row for j in repeated]].any():
                    kept[repeated[0]], kept_vectors[repeated[0]] = result, vector
                    kept_texts.add(text)
                continue
        kept_vectors[len(kept)] = vector
        kept.append(result)
        kept_texts.add(text)
        if len(kept) >= limit:
            break
    return kept


def _numbers(text: str) -> frozenset[str]:
    """Tokens with digits (ports, amounts, ids, dates): facts that differ in one are not duplicates,
    however close their embeddings ("runs on port 8003" vs "runs on port 8004")."""
    return frozenset(token for token in _TOKEN.findall(text) if any(ch.isdigit() for ch in token))


def fit_to_budget(token_counts: Sequence[int], budget: int) -> int:
    """How many lines, taken in order, fit in `budget` tokens (stops at the first that does not)."""
    used = 0
    for count, tokens in enumerate(token_counts):
        if used + tokens > budget:
            return count
        used += tokens
    return len(token_counts)
