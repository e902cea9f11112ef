"""Embedder: precision resolution, the content-hash cache, and bf16 staying close to fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SEEDS
from qa_bot.embed import Embedder, cpu_has_fast_bf16, resolve_precision
from qa_bot.errors import InputError
from qa_bot.ingest.chunking import chunk_article, indexed_text
from qa_bot.ingest.loaders import load_file
from qa_bot.settings import Precision


def _cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """A few real passages of the seed article, as they are embedded at ingest."""
    seed = next(p for p in sorted(SEEDS.iterdir()) if p.suffix in {".txt", ".md", ".html"})
    chunks = chunk_article(load_file(seed, seed.stem), 60)
    return [indexed_text(c) for c in chunks[:8]]


def test_explicit_precision_is_kept():
    assert resolve_precision(Precision.BF16) is Precision.BF16
    assert resolve_precision(Precision.FP32) is Precision.FP32


def test_auto_follows_the_cpu():
    fast = bool(_cpu_flags() & {"amx_bf16", "avx512_bf16"})
    assert cpu_has_fast_bf16() is fast
    assert resolve_precision(Precision.AUTO) is (Precision.BF16 if fast else Precision.FP32)


def test_unknown_precision_lists_the_choices():
    with pytest.raises(InputError, match="auto, bf16, fp32"):
        Precision.from_str("int4")


def test_cache_hit_does_not_encode_again(tmp_path, passages):
    first = Embedder(precision=Precision.FP32, cache_dir=tmp_path)
    vectors = first.encode(passages)
    assert vectors.shape == (len(passages), 384)

    again = Embedder(precision=Precision.FP32, cache_dir=tmp_path)
    encoded: list[str] = []
    real = again._encode_raw
    again._encode_raw = lambda texts: encoded.extend(texts) or real(texts)  # a spy on the real encoder
    assert np.array_equal(again.encode(passages), vectors)
    assert encoded == []
    assert again._model is None  # all from the cache: the model was never even loaded

    new = "A passage that nobody has embedded before, about a harbour reopening on 3 March."
    mixed = again.encode([passages[0], new, passages[1]])
    assert encoded == [new]  # only the unseen text reaches the model
    assert np.array_equal(mixed[0], vectors[0]) and np.array_equal(mixed[2], vectors[1])


def test_cache_is_keyed_by_precision(tmp_path, passages):
    Embedder(precision=Precision.FP32, cache_dir=tmp_path).encode(passages[:2])
    bf16 = Embedder(precision=Precision.BF16, cache_dir=tmp_path)
    bf16.encode(passages[:2])
    assert bf16._model is not None  # fp32 vectors are not served as bf16 ones


def test_bf16_is_close_to_fp32(passages):
    fp32 = Embedder(precision=Precision.FP32).encode(passages)
    bf16 = Embedder(precision=Precision.BF16).encode(passages)
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    cosines = (fp32 * bf16).sum(axis=1)
    assert cosines.min() >= 0.998, cosines
    # and the ranking a question induces is the same
    question = Embedder(precision=Precision.FP32).encode(["Who led the Russian delegation?"])[0]
    assert np.argmax(fp32 @ question) == np.argmax(bf16 @ question)


def test_reindexing_identical_text_never_re_embeds(tmp_path):
    """A second index of the same articles (or a replica under new ids) is built from the cache."""
    from conftest import SEED_ASKED_ON
    from qa_bot import QABot

    QABot(index_dir=tmp_path / "first", cache_dir=tmp_path / "cache").ingest([SEEDS])
    second = QABot(index_dir=tmp_path / "second", cache_dir=tmp_path / "cache")
    encoded: list[str] = []
    real = second.embedder._encode_raw
    second.embedder._encode_raw = lambda texts: encoded.extend(texts) or real(texts)
    report = second.ingest([SEEDS])
    assert report.chunks_written == report.total_chunks > 0
    assert encoded == [] and second.embedder._model is None
    assert "Kostyukov" in second.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON).text


def test_sentences_embedded_at_ingest_leave_only_the_question(tmp_path):
    """With embed_sentences, answering encodes the question and nothing else: every sentence and
    passage the answerer reads was embedded at ingest."""
    from conftest import SEED_ASKED_ON
    from qa_bot import QABot

    bot = QABot(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", embed_sentences=True)
    bot.ingest([SEEDS])
    encoded: list[str] = []
    real = bot.embedder._encode_raw
    bot.embedder._encode_raw = lambda texts: encoded.extend(texts) or real(texts)
    question = "Who led the Russian delegation?"
    assert "Kostyukov" in bot.ask(question, asked_on=SEED_ASKED_ON).text
    assert encoded == [question]
