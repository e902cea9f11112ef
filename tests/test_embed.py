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
    again._encode_raw = lambda texts, spans=None: encoded.extend(texts) or real(texts, spans)  # a spy on the real encoder
    assert np.array_equal(again.encode(passages), vectors)
    assert encoded == []
    assert again._torch is None  # all from the cache: the model was never even loaded

    new = "A passage that nobody has embedded before, about a harbour reopening on 3 March."
    mixed = again.encode([passages[0], new, passages[1]])
    assert encoded == [new]  # only the unseen text reaches the model
    assert np.array_equal(mixed[0], vectors[0]) and np.array_equal(mixed[2], vectors[1])


@pytest.mark.parametrize("cached", [True, False])
def test_a_text_given_twice_in_one_call_is_read_once(tmp_path, passages, cached):
    """Syndicated copies put the same sentence in a shortlist twice; the model reads it once."""
    embedder = Embedder(precision=Precision.FP32, cache_dir=tmp_path if cached else None)
    encoded: list[str] = []
    real = embedder._encode_raw
    embedder._encode_raw = lambda texts, spans=None: encoded.extend(texts) or real(texts, spans)
    texts = [passages[0], passages[1], passages[0], passages[2], passages[1]]
    vectors = embedder.encode(texts)
    assert sorted(encoded) == sorted(passages[:3])
    assert np.array_equal(vectors[0], vectors[2]) and np.array_equal(vectors[1], vectors[4])
    assert not np.array_equal(vectors[0], vectors[1])
    spans = [[(0, 40)], [(0, 40)], [(0, 40)], [(0, 40)], [(0, 40)]]
    encoded.clear()
    embedder.encode(texts, spans)
    assert sorted(encoded) == sorted(passages[:3])  # the spans' own pass, once per distinct text


def test_cache_is_keyed_by_precision(tmp_path, passages):
    Embedder(precision=Precision.FP32, cache_dir=tmp_path).encode(passages[:2])
    bf16 = Embedder(precision=Precision.BF16, cache_dir=tmp_path)
    bf16.encode(passages[:2])
    assert bf16._torch is not None  # fp32 vectors are not served as bf16 ones


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
    second.embedder._encode_raw = lambda texts, spans=None: encoded.extend(texts) or real(texts, spans)
    report = second.ingest([SEEDS])
    assert report.chunks_written == report.total_chunks > 0
    assert encoded == [] and second.embedder._torch is None
    assert "Kostyukov" in second.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON).text


def test_answering_reads_only_the_question_and_a_shortlist(tmp_path):
    """Ingest leaves every sentence's in-context vector in the cache, so a new question costs the
    model the question itself and the few shortlisted sentences it re-reads on their own; asked
    again, nothing at all."""
    from conftest import SEED_ASKED_ON
    from qa_bot import QABot

    bot = QABot(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    bot.ingest([SEEDS])
    encoded: list[str] = []
    real = bot.embedder._encode_raw
    bot.embedder._encode_raw = lambda texts, spans=None: encoded.extend(texts) or real(texts, spans)
    question = "Who led the Russian delegation?"
    assert "Kostyukov" in bot.ask(question, asked_on=SEED_ASKED_ON).text
    assert encoded[0] == question and 1 <= len(encoded) - 1 <= bot.settings.tuning.rescore
    article = "".join(load_file(p, p.stem).text for p in SEEDS.iterdir() if p.suffix in {".txt", ".md", ".html"})
    assert all(text in article for text in encoded[1:])  # sentences of the article, read alone
    encoded.clear()
    assert "Kostyukov" in bot.ask(question, asked_on=SEED_ASKED_ON).text
    assert encoded == []


def test_sentence_vectors_in_context_come_from_the_passage_pass(tmp_path):
    """A sentence's in-context vector is its passage's tokens pooled over the sentence: close to the
    sentence read alone, closer to its passage than the sentence alone is, and cached by ingest."""
    from qa_bot.embed import Embedder
    from qa_bot.settings import Precision

    passage = "Title line\nThe talks ended without a deal. New meetings are slated for February 1 in Abu Dhabi."
    spans = [(11, 42), (43, len(passage))]
    embedder = Embedder(precision=Precision.FP32, cache_dir=tmp_path)
    whole = embedder.encode([passage], [spans])[0]
    in_context = embedder.span_vectors([passage], [spans])[0]
    alone = embedder.encode([passage[s:e] for s, e in spans])
    assert in_context.shape == (2, whole.shape[0])
    assert np.allclose(np.linalg.norm(in_context, axis=1), 1.0, atol=1e-3)
    for vec, solo in zip(in_context, alone):
        assert float(vec @ solo) > 0.6
        assert float(vec @ whole) > float(solo @ whole)
    fresh = Embedder(precision=Precision.FP32, cache_dir=tmp_path)
    assert np.allclose(fresh.span_vectors([passage], [spans])[0], in_context, atol=1e-3)
    assert fresh._torch is None  # read from the cache, not the model


def test_onnx_twin_matches_torch_and_spares_the_import(tmp_path, passages):
    """After ingest exported it, a few texts are encoded by onnxruntime: the same vectors (padded
    batches and in-context spans included) as torch in fp32, without torch loaded."""
    fp32 = Embedder(precision=Precision.FP32, cache_dir=tmp_path / "torch")
    assert fp32.export_onnx()
    twin = Embedder(precision=Precision.FP32, cache_dir=tmp_path / "onnx")
    (tmp_path / "onnx" / "onnx").mkdir(parents=True)
    for file in (tmp_path / "torch" / "onnx").iterdir():
        (tmp_path / "onnx" / "onnx" / file.name).write_bytes(file.read_bytes())
    texts = ["Who led the Russian delegation?", *passages[:3]]
    spans = [[(0, 3), (4, 31)]] + [[(0, 40), (41, 120)]] * 3
    a, b = fp32.encode(texts, spans), twin.encode(texts, spans)
    assert twin._torch is None and twin._onnx is not None
    assert np.min(np.sum(a * b, axis=1)) > 0.9999
    for x, y in zip(fp32.span_vectors(texts, spans), twin.span_vectors(texts, spans)):
        assert np.min(np.sum(x * y, axis=1)) > 0.9999


def test_bulk_encoder_is_sentence_transformers_without_importing_it(passages):
    """The torch encoder runs the model's transformer through transformers alone: the vectors
    sentence-transformers gives, in a process that never imports it (its import, with scikit-learn,
    scipy and pandas, cost a bot process ~200 MB of RSS)."""
    import json
    import subprocess
    import sys

    from conftest import ROOT

    script = (
        "import json, sys\n"
        "from qa_bot.embed import Embedder\n"
        "from qa_bot.settings import Precision\n"
        "texts = json.loads(sys.stdin.read())\n"
        "vectors = Embedder(precision=Precision.FP32).encode(texts)\n"
        "print(json.dumps({'vectors': vectors.tolist(), 'imported': 'sentence_transformers' in sys.modules}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(passages), capture_output=True, text=True,
        cwd=ROOT, timeout=300, check=True,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["imported"] is False

    from sentence_transformers import SentenceTransformer

    from qa_bot.embed import default_model_path

    reference = SentenceTransformer(default_model_path(), device="cpu").encode(passages, normalize_embeddings=True)
    cosines = (np.asarray(result["vectors"]) * reference).sum(axis=1)
    assert cosines.min() > 0.99999, cosines


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> Path:
    """A cache folder holding the packaged model's ONNX twin (exported once, with torch)."""
    cache = tmp_path_factory.mktemp("twin-cache")
    assert Embedder(precision=Precision.FP32, cache_dir=cache).export_onnx()
    return cache


def test_questions_use_the_twin_even_once_torch_is_loaded(twin):
    """A few texts (a question, its shortlist, an article) go to onnxruntime even in a process that
    loaded torch for bulk work: torch's per-shape kernels grew a bot's RSS ~300 MB over 100 new
    questions. Bulk work stays on torch, and warming up loads only what questions use."""
    embedder = Embedder(precision=Precision.FP32, cache_dir=twin)
    embedder.warm_up()
    assert embedder._onnx is not None and embedder._torch is None
    bulk = [f"Passage number {i} about the harbour budget." for i in range(embedder.onnx_max_texts + 1)]
    embedder.encode(bulk)
    assert embedder._torch is not None
    used: list[str] = []
    for name, encoder in (("onnx", embedder._onnx), ("torch", embedder._torch)):
        real = encoder.hidden
        encoder.hidden = lambda texts, real=real, name=name: used.append(name) or real(texts)
    embedder.encode(["Who led the Russian delegation?"])
    embedder.encode([f"Another passage, number {i}." for i in range(embedder.onnx_max_texts + 1)])
    assert used[0] == "onnx" and set(used[1:]) == {"torch"}  # torch in batches of `batch_size`


def test_the_twin_runs_a_big_call_in_pieces_within_its_token_budget(twin, passages):
    """onnxruntime keeps its biggest run's memory for good, so a call is run in pieces of at most
    `batch_tokens` (texts x the longest); the vectors are those of one run."""
    from qa_bot.embed import default_model_path
    from qa_bot.encoders import OnnxEncoder

    onnx_path = next((twin / "onnx").glob("*.onnx"))
    model_dir = Path(default_model_path())
    whole = OnnxEncoder(onnx_path, model_dir, batch_tokens=10**6)
    pieces = OnnxEncoder(onnx_path, model_dir, batch_tokens=80)
    runs: list[tuple[int, int]] = []
    real = pieces.session.run
    pieces.session.run = lambda names, feeds: runs.append(feeds["input_ids"].shape) or real(names, feeds)
    texts = sorted([*passages[:5], "Who?", "Who led the Russian delegation?"], key=len, reverse=True)
    a, b = whole.hidden(texts), pieces.hidden(texts)
    assert len(runs) > 1 and sum(n for n, _ in runs) == len(texts)
    assert all(n * width <= 80 or n == 1 for n, width in runs)
    assert np.array_equal(a.mask, b.mask) and np.array_equal(a.offsets, b.offsets)
    assert np.allclose(a.states[a.mask], b.states[b.mask], atol=1e-4)


@pytest.mark.parametrize(
    "lengths, budget, expected",
    [
        ([], 100, []),
        ([10, 10, 10], 25, [(0, 2), (2, 3)]),
        ([100, 5, 5], 50, [(0, 1), (1, 3)]),  # a text over the budget runs alone
        ([5, 5, 30], 40, [(0, 2), (2, 3)]),  # the longest sets the padded size
    ],
)
def test_pieces_keep_texts_times_longest_within_the_budget(lengths, budget, expected):
    from qa_bot.encoders import _pieces

    assert _pieces(np.array(lengths), budget) == expected


def test_a_question_imports_no_torch_and_torch_still_loads_when_bulk_work_needs_it(seed_index):
    """spaCy's thinc would import torch (~1.3 s and ~200 MB of a cold `qa-bot ask`) though the
    pipeline never runs on it: a question answered with the ONNX twin leaves torch unimported. Bulk
    encoding then loads it, also while spaCy loads in another thread."""
    import json
    import subprocess
    import sys

    from conftest import ROOT, SEED_ASKED_ON

    script = (
        "import json, sys, threading\n"
        "from qa_bot import QABot\n"
        "bot = QABot(index_dir=sys.argv[1])\n"
        "answer = bot.ask('When are the next talks?', asked_on=sys.argv[2]).text\n"
        "after_question = 'torch' in sys.modules\n"
        "import thinc.compat\n"
        "other = QABot(index_dir=sys.argv[1])\n"
        "texts = ['Passage number %d about the harbour.' % i for i in range(other.settings.onnx_max_texts + 1)]\n"
        "done = []\n"
        "import qa_bot.language.pipeline as pipeline\n"
        "pipeline._nlp = None\n"
        "threads = [threading.Thread(target=lambda: done.append(pipeline.nlp() is not None)),\n"
        "           threading.Thread(target=lambda: done.append(other.embedder.encode(texts).shape[0] == len(texts)))]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "import torch\n"
        "print(json.dumps({'answer': answer, 'after_question': after_question, 'thinc_torch': thinc.compat.has_torch,\n"
        "                  'done': done, 'torch': torch.__name__}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(seed_index), SEED_ASKED_ON], capture_output=True, text=True,
        cwd=ROOT, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert "February 1" in result["answer"]
    assert result["after_question"] is False and result["thinc_torch"] is False
    assert result["done"] == [True, True] and result["torch"] == "torch"


def test_a_shortlisted_sentence_far_behind_the_best_is_not_read_again(seed_bot, monkeypatch):
    """Reading a sentence alone costs a model run; one whose score is out of reach of the best
    would not change the answer, so only those within `rescore_margin` are read again, and the rest
    stay evidence with their in-context scores."""
    from conftest import SEED_ASKED_ON
    from qa_bot.answer import select_evidence
    from qa_bot.language import analyse
    from qa_bot.settings import Tuning

    question = "Who led the Russian delegation?"
    vector = seed_bot.embedder.encode([question])[0]
    profile = analyse(question)
    pool = seed_bot.retriever.retrieve(question, top_k=12, query_vector=vector, asked_on=SEED_ASKED_ON, profile=profile)
    calls: list[list[str]] = []
    real = seed_bot.embedder.encode
    monkeypatch.setattr(seed_bot.embedder, "encode", lambda texts, spans=None: calls.append(list(texts)) or real(texts, spans))
    idf = seed_bot.retriever.lexical.current().idf

    def read_again(margin: float) -> tuple[list[str], list]:
        evidence = select_evidence(profile, vector, pool, seed_bot.embedder, idf, SEED_ASKED_ON, Tuning(rescore_margin=margin))
        return calls[-1], evidence

    every, wide = read_again(10.0)
    first, narrow = read_again(0.0)
    assert len(every) == Tuning().rescore and first == every[:1]
    assert sorted((e.start, e.text) for e in narrow) == sorted((e.start, e.text) for e in wide)
    assert "Kostyukov" in narrow[0].text
