"""The embedders behind recall, the storage helpers, and the offline token counter.

No database: these run with or without pytest-django. The OpenAI-compatible embedder talks to a
small HTTP server started here, through the real `openai` client.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from memory.embedding import count_tokens, from_bytes, get_embedder, to_bytes
from memory.embedding.base import Embedder, EmbeddingUnavailable
from memory.embedding.openai_embedder import OpenAIEmbedder
from memory.embedding.registry import EmbedderConfigError, build_embedder, reset_embedder
from memory.embedding.static import StaticEmbedder

REPO_ROOT = Path(__file__).resolve().parents[2]
BILLED = "The customer was billed two times"
CHARGED = "I was charged twice on my card"
WEATHER = "The weather is sunny"


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


# --- static embedder -------------------------------------------------------------------------


def test_static_embedder_returns_unit_float32_rows():
    embedder = StaticEmbedder()

    vectors = embedder.embed([BILLED, CHARGED, WEATHER])

    assert isinstance(embedder, Embedder)
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, embedder.dimensions) == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_static_embedder_is_deterministic_and_batch_independent():
    embedder = StaticEmbedder()

    together = embedder.embed([BILLED, CHARGED])
    alone = embedder.embed([CHARGED])

    np.testing.assert_array_equal(together, embedder.embed([BILLED, CHARGED]))
    np.testing.assert_allclose(together[1], alone[0], atol=1e-6)


def test_a_paraphrase_without_shared_words_beats_an_unrelated_sentence():
    billed, charged, weather = StaticEmbedder().embed([BILLED, CHARGED, WEATHER])

    assert cosine(billed, charged) > cosine(billed, weather) + 0.2


def test_empty_and_blank_texts_get_zero_vectors():
    vectors = StaticEmbedder().embed(["", "   \n\t", BILLED])

    assert not vectors[:2].any()
    assert np.linalg.norm(vectors[2]) == pytest.approx(1.0, abs=1e-5)


def test_an_empty_batch_gives_an_empty_matrix():
    assert StaticEmbedder().embed([]).shape == (0, 256)


def test_a_bare_string_is_refused_rather_than_embedded_letter_by_letter():
    with pytest.raises(TypeError):
        StaticEmbedder().embed(BILLED)


@pytest.mark.parametrize(
    "text",
    [
        "今天天气晴朗",
        "Клиенту дважды выставили счёт",
        "charged twice 💳💳 😡",
        "e\u0301\u200b\x00\ufffd [CLS] [SEP] [unused5]",
    ],
    ids=["cjk", "cyrillic", "emoji-in-english", "combining-marks-and-special-tokens"],
)
def test_non_ascii_text_gives_a_unit_vector(text):
    (vector,) = StaticEmbedder().embed([text])

    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    "text",
    ["💳😡🙈", "用户被重复扣款了两次", "x" * 5000, "\x00\x01"],
    ids=["emoji", "cjk-outside-the-vocabulary", "overlong-word", "control-characters"],
)
def test_text_with_no_known_token_gets_a_zero_vector_not_nan(text):
    (vector,) = StaticEmbedder().embed([text])

    assert not vector.any()


def test_a_huge_text_is_embedded_in_full():
    huge = " ".join([BILLED] * 5_000)  # 30,000 tokens, far past any transformer's 512

    (vector,) = StaticEmbedder().embed([huge])

    assert cosine(vector, StaticEmbedder().embed([BILLED])[0]) > 0.99


def test_concurrent_callers_get_the_same_vectors():
    texts = [f"{BILLED} number {i}" for i in range(50)]
    expected = StaticEmbedder().embed(texts)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: StaticEmbedder().embed(texts), range(16)))

    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_the_package_imports_without_django():
    code = "import sys, memory.embedding; assert 'django' not in sys.modules, 'django imported'"

    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, env={"PATH": os.environ["PATH"]})


# --- storage helpers -------------------------------------------------------------------------


def test_vectors_round_trip_through_float32_bytes():
    vector = StaticEmbedder().embed([BILLED])[0]

    data = to_bytes(vector)

    assert len(data) == 256 * 4
    np.testing.assert_array_equal(from_bytes(data, 256), vector)


def test_from_bytes_reads_several_packed_vectors_and_gives_a_writable_array():
    vectors = StaticEmbedder().embed([BILLED, CHARGED])
    packed = b"".join(to_bytes(v) for v in vectors)

    matrix = from_bytes(packed, 2 * 256).reshape(2, 256)
    matrix *= 1.0

    np.testing.assert_array_equal(matrix, vectors)


def test_from_bytes_refuses_a_length_that_does_not_match():
    with pytest.raises(ValueError, match="expected 256"):
        from_bytes(b"\x00" * 1020, 256)


def test_to_bytes_refuses_a_matrix():
    with pytest.raises(ValueError):
        to_bytes(np.zeros((2, 3), dtype=np.float32))


# --- token counter ---------------------------------------------------------------------------


def test_count_tokens_counts_wordpieces_without_special_tokens():
    assert count_tokens("") == 0
    assert count_tokens("   ") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("用户被扣款") == 5


def test_count_tokens_grows_with_the_text_and_handles_huge_inputs():
    sentence = "Alice moved to Berlin in March and started a new job at the bakery."
    one = count_tokens(sentence)

    assert 12 <= one <= 20
    assert count_tokens(" ".join([sentence] * 3_000)) == 3_000 * one


# --- registry --------------------------------------------------------------------------------


@pytest.fixture
def memori_settings(monkeypatch) -> Iterator[Callable[[str, str], None]]:
    """Set MEMORI_* in the environment and, when Django is configured, in its settings too."""
    from memory.embedding import registry

    def set_setting(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        if registry._django_configured():
            from django.conf import settings

            monkeypatch.setattr(settings, name, value, raising=False)

    reset_embedder()
    yield set_setting
    reset_embedder()


def test_get_embedder_defaults_to_one_shared_static_embedder(memori_settings):
    memori_settings("MEMORI_EMBEDDER", "static")

    first = get_embedder()

    assert isinstance(first, StaticEmbedder)
    assert get_embedder() is first
    assert first.name == "static-minilm-l6-v2-256-v1"


def test_get_embedder_builds_from_a_dotted_path(memori_settings):
    memori_settings("MEMORI_EMBEDDER", "memory.embedding.static.StaticEmbedder")

    assert isinstance(get_embedder(), StaticEmbedder)


def test_an_unknown_embedder_name_is_a_config_error():
    with pytest.raises(EmbedderConfigError, match="'statc'"):
        build_embedder("statc")
    with pytest.raises(EmbedderConfigError, match="cannot be imported"):
        build_embedder("memory.embedding.nowhere.Embedder")


# --- OpenAI-compatible embedder against a local server ---------------------------------------

FAKE_DIMS = 8


def fake_vector(text: str) -> list[float]:
    """Deterministic, deliberately not unit length."""
    digest = hashlib.sha256(text.encode()).digest()
    return [3.0 * (byte - 128) / 128 for byte in digest[:FAKE_DIMS]]


class EmbeddingsHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if body["model"] == "broken":
            self.send_error(500, "model crashed")
            return
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text)} for i, text in enumerate(body["input"])
        ]
        data.reverse()  # the API does not promise order; the client must sort by index
        payload = json.dumps(
            {"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def embeddings_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    server.requests = []
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_openai_embedder_batches_skips_blanks_and_normalises(embeddings_server):
    embedder = OpenAIEmbedder(base_url=embeddings_server.base_url, api_key="k-123", model="tiny", batch_size=2)

    vectors = embedder.embed(["alpha", "", "beta", "gamma", "  ", "delta"])

    sent = [r["body"]["input"] for r in embeddings_server.requests]
    assert sent == [["alpha", "beta"], ["gamma", "delta"]]
    assert {r["path"] for r in embeddings_server.requests} == {"/v1/embeddings"}
    assert embeddings_server.requests[0]["auth"] == "Bearer k-123"
    assert vectors.shape == (6, FAKE_DIMS) and vectors.dtype == np.float32
    assert not vectors[1].any() and not vectors[4].any()
    expected = np.asarray(fake_vector("gamma"), dtype=np.float32)
    np.testing.assert_allclose(vectors[3], expected / np.linalg.norm(expected), atol=1e-6)
    assert embedder.dimensions == FAKE_DIMS
    assert embedder.name == "openai:tiny"


def test_openai_embedder_asks_the_server_for_its_dimensions(embeddings_server):
    embedder = OpenAIEmbedder(base_url=embeddings_server.base_url, model="tiny")

    assert embedder.dimensions == FAKE_DIMS
    assert len(embeddings_server.requests) == 1


def test_openai_embedder_turns_server_errors_into_embedding_unavailable(embeddings_server):
    embedder = OpenAIEmbedder(base_url=embeddings_server.base_url, model="broken", max_retries=0)

    with pytest.raises(EmbeddingUnavailable, match="openai:broken"):
        embedder.embed(["alpha"])


def test_get_embedder_builds_the_openai_embedder_from_settings(memori_settings, embeddings_server):
    memori_settings("MEMORI_EMBEDDER", "openai")
    memori_settings("MEMORI_EMBEDDING_BASE_URL", embeddings_server.base_url)
    memori_settings("MEMORI_EMBEDDING_API_KEY", "from-settings")
    memori_settings("MEMORI_EMBEDDING_MODEL", "tiny")

    vectors = get_embedder().embed(["alpha"])

    assert vectors.shape == (1, FAKE_DIMS)
    assert embeddings_server.requests[0]["auth"] == "Bearer from-settings"
    assert embeddings_server.requests[0]["body"]["model"] == "tiny"
