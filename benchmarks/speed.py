"""Speed of qa-bot on the realtimeqa corpus (real 2025 news), one JSON line per measurement.

    .venv/bin/python benchmarks/speed.py                  # everything (about an hour on 2 busy cores)
    .venv/bin/python benchmarks/speed.py --only encode,ingest
    .venv/bin/python benchmarks/speed.py --only build,query,cold --work /tmp/qa-speed

Measurements (each in its own child process, so `peak_rss_mb` is that measurement's own):
  encode  raw SentenceTransformer.encode, chunks/s, fp32 and bf16 on the same chunks, and their cosine
  ingest  QABot.ingest on a fresh index and a fresh embedding cache, against raw encode of the same
          chunks in the same process (the floor); raw is timed before and after and averaged, since
          other work on a shared machine moves the clock
  build   the 10k-chunk index (the first realtimeqa articles) and the 100k one (those articles plus
          replicas under new ids: identical text, so the embedding cache serves them)
  query   QABot.ask latency p50/p95 at 10k and 100k chunks (extractive): "first", each question new
          (passage and in-context sentence vectors cached by ingest; the question and the shortlisted
          sentences read alone are not), and "repeat" (all cached), with where the time goes
  cold    `qa-bot ask` as a new process, start to answer, with the cache as ingest left it (passage
          and in-context sentence vectors, the ONNX twin of the model; not the question)
  lexical (only with --only) the whole lexical file built from the collection by a bot process,
          as when it is missing or of an old format: the index's file is deleted first
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "eval" / "realtimeqa" / "corpus.jsonl.gz"
QUESTIONS = ROOT.parent / "shared" / "eval" / "realtimeqa" / "questions.jsonl"
STEPS = ("encode", "ingest", "build", "query", "cold")  # and "lexical", only when asked for


def _chunk_words() -> int:
    from qa_bot.settings import Settings

    return Settings().chunk_words


CHUNK_WORDS = _chunk_words()  # chunks as QABot makes them with the current settings


# ---- helpers ------------------------------------------------------------------------------------
def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def articles(limit_chunks: int) -> list[dict]:
    """The first realtimeqa articles whose chunks add up to at least `limit_chunks`."""
    from qa_bot.ingest.chunking import chunk_article
    from qa_bot.ingest.loaders import make_article, parse_date

    picked, total = [], 0
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            article = make_article(
                record["id"], record["text"], title=record.get("title") or "",
                published=parse_date(record.get("published")),
            )
            picked.append(record)
            total += len(chunk_article(article, CHUNK_WORDS))
            if total >= limit_chunks:
                break
    return picked


def chunk_texts(records: list[dict], limit: int | None = None) -> list[str]:
    from qa_bot.ingest.chunking import chunk_article, indexed_text
    from qa_bot.ingest.loaders import make_article, parse_date

    texts = []
    for r in records:
        article = make_article(r["id"], r["text"], title=r.get("title") or "", published=parse_date(r.get("published")))
        texts += [indexed_text(c) for c in chunk_article(article, CHUNK_WORDS)]
    return texts[:limit] if limit else texts


def write_jsonl(path: Path, records: list[dict], suffix: str = "") -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({**r, "id": r["id"] + suffix}, ensure_ascii=False) + "\n")


def in_child(step: str, *args: str) -> list[dict]:
    """Runs `speed.py _child step args` and returns its JSON lines with that process's peak RSS."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "_child", step, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        records.append({"bench": step, "error": f"exit {proc.returncode}"})
    for r in records:
        r.setdefault("peak_rss_mb", round(usage.ru_maxrss / 1024))
    return records


def machine() -> dict:
    flags = set()
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
        if line.startswith("model name") and not model:
            model = line.split(":", 1)[1].strip()
    import torch

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "amx_bf16": "amx_bf16" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_avg_1m": os.getloadavg()[0],
    }


def load_model(precision: str):
    import torch
    from sentence_transformers import SentenceTransformer

    from qa_bot.embed import default_model_path

    kwargs = {"torch_dtype": torch.bfloat16} if precision == "bf16" else {}
    return SentenceTransformer(default_model_path(), device="cpu", model_kwargs=kwargs)


def raw_encode(model, texts: list[str], batch_size: int = 64) -> tuple[float, "object"]:
    start = time.perf_counter()
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - start), vectors


def timed(spent: dict[str, float], name: str, func):
    """`func`, adding the seconds each call takes to `spent[name]`."""
    def wrapper(*a, **k):
        start = time.perf_counter()
        try:
            return func(*a, **k)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
    return wrapper


def cache_as_ingest_left_it(index: Path, build_cache: Path) -> str:
    """A new embedding cache holding what ingest put there for the index's passages (their vectors,
    their sentences' in-context vectors, the model's ONNX twin) and nothing else."""
    import tempfile

    from qa_bot.embed import SPAN_DTYPE, Embedder, EmbeddingCache
    from qa_bot.ingest.chunking import indexed_sentence_spans, indexed_text
    from qa_bot.store import ChromaStore

    cache = tempfile.mkdtemp(prefix="qa-speed-cache-")
    embedder = Embedder()  # only for its cache keys; the model is not loaded
    chunks = list(ChromaStore(index).iter_chunks())
    keys = list({embedder._key(indexed_text(c)) for c in chunks})
    span_keys = list({embedder._spans_key(indexed_text(c), indexed_sentence_spans(c)) for c in chunks})
    source, target = EmbeddingCache(build_cache / "embeddings.sqlite"), EmbeddingCache(Path(cache) / "embeddings.sqlite")
    target.put_many(source.get_many(keys))
    target.put_many(source.get_many(span_keys, SPAN_DTYPE), SPAN_DTYPE)
    if (build_cache / "onnx").is_dir():  # the model's ONNX twin, which ingest also leaves there
        shutil.copytree(build_cache / "onnx", Path(cache) / "onnx")
    return cache


# ---- steps (each runs in a child) -----------------------------------------------------------------
def child_encode(precision: str, n: str) -> None:
    import numpy as np

    texts = chunk_texts(articles(int(n)), int(n))
    model = load_model(precision)
    model.encode(texts[:64], batch_size=64)  # warm-up: first calls pick kernels
    rate, vectors = raw_encode(model, texts)
    np.save(f"/tmp/qa-speed-encode-{precision}.npy", vectors.astype(np.float32))
    emit({"bench": "encode", "precision": precision, "chunks": len(texts), "chunks_per_s": round(rate, 1),
          "load_avg_1m": os.getloadavg()[0]})


def child_ingest(work: str, n: str, precision: str) -> None:
    from qa_bot import QABot

    work_dir = Path(work) / f"ingest-{precision}"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    records = articles(int(n))
    corpus = work_dir / "corpus.jsonl"
    write_jsonl(corpus, records)
    texts = chunk_texts(records)

    model = load_model(precision)
    model.encode(texts[:64], batch_size=64)
    raw_before, _ = raw_encode(model, texts)

    bot = QABot(index_dir=work_dir / "index", cache_dir=work_dir / "cache", precision=precision)
    bot.embedder.warm_up(texts[:64])  # same warm-up as the raw model; not cached
    spent: dict[str, float] = {}
    # once per cache: a fresh cache pays the ONNX export in its first ingest
    bot.embedder.export_onnx = timed(spent, "onnx_export", bot.embedder.export_onnx)
    start = time.perf_counter()
    report = bot.ingest([corpus])
    ingest_s = time.perf_counter() - start
    ingest_rate = report.chunks_written / ingest_s
    export_s = spent.get("onnx_export", 0.0)

    raw_after, _ = raw_encode(model, texts)
    raw = (raw_before + raw_after) / 2

    start = time.perf_counter()
    again = QABot(index_dir=work_dir / "index2", cache_dir=work_dir / "cache", precision=precision).ingest([corpus])
    cached_rate = again.chunks_written / (time.perf_counter() - start)
    emit({
        "bench": "ingest", "precision": precision, "articles": len(records), "chunks": report.chunks_written,
        "ingest_chunks_per_s": round(ingest_rate, 1), "raw_encode_chunks_per_s": round(raw, 1),
        "raw_before": round(raw_before, 1), "raw_after": round(raw_after, 1),
        "ratio_to_raw": round(ingest_rate / raw, 3),
        "onnx_export_s": round(export_s, 1),
        "ratio_to_raw_without_export": round(report.chunks_written / (ingest_s - export_s) / raw, 3),
        "reindex_cached_chunks_per_s": round(cached_rate, 1),
        "load_avg_1m": os.getloadavg()[0],
    })


def size_label(chunks: int) -> str:
    """10000 -> "10k", 1000000 -> "1M": the index folders' names."""
    return f"{chunks // 1_000_000}M" if chunks % 1_000_000 == 0 else f"{chunks // 1000}k"


def child_build(work: str, base_chunks: str, sizes: str, cache: str) -> None:
    """The base index (the first realtimeqa articles, through QABot.ingest, embeddings from the cache),
    then one index per size: the next smaller one plus replicas of the base articles under new ids.

    Replicas carry the base index's own chunks and vectors (identical text, so the same vectors the
    embedding cache would give) written through ChromaStore.write_parts, the path ingest writes by,
    so a million chunks are Chroma's write time, not re-chunking and cache look-ups."""
    from dataclasses import replace

    from qa_bot import QABot
    from qa_bot.ingest.loaders import make_article, parse_date
    from qa_bot.store import ChromaStore
    from qa_bot.store.chroma import ArticlePart, chunk_from_record
    from qa_bot.store.lexical import SyncedLexicalIndex

    import numpy as np

    work_dir = Path(work)
    records = articles(int(base_chunks))
    base = work_dir / "base.jsonl"
    write_jsonl(base, records)
    small = work_dir / f"index-{size_label(int(base_chunks))}"
    if not (small / "chroma.sqlite3").exists():
        start = time.perf_counter()
        report = QABot(index_dir=small, cache_dir=cache).ingest([base])
        emit({"bench": "build", "index": small.name[6:], "chunks": report.total_chunks,
              "articles": report.total_articles, "seconds": round(time.perf_counter() - start, 1)})
    by_doc: dict[str, list] = {}
    base_store = ChromaStore(small)
    offset = 0
    while True:
        page = base_store._chunks.get(include=["documents", "metadatas", "embeddings"], limit=2000, offset=offset)
        if not page["ids"]:
            break
        for cid, text, meta, vector in zip(page["ids"], page["documents"], page["metadatas"], page["embeddings"]):
            chunk = chunk_from_record(cid, text, meta or {})
            by_doc.setdefault(chunk.doc_id, []).append((chunk, np.asarray(vector, dtype=np.float32)))
        offset += len(page["ids"])
    base_articles = {
        r["id"]: make_article(r["id"], r["text"], title=r.get("title") or "", published=parse_date(r.get("published")))
        for r in records
    }
    base_n = sum(len(v) for v in by_doc.values())
    previous = small
    for target in sorted(int(s) for s in sizes.split(",")):
        label = size_label(target)
        index = work_dir / f"index-{label}"
        if index == small or (index / "chroma.sqlite3").exists():
            previous = index
            continue
        tmp = work_dir / f"index-{label}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(previous, tmp)
        store = ChromaStore(tmp)
        SyncedLexicalIndex(store)  # its lexical file follows every write, as under QABot.ingest
        have = store.count()
        first_replica = have // base_n  # replicas r1.. already in the copy (r0 is the base)
        replicas = -(-target // base_n) - 1
        start, written = time.perf_counter(), 0
        for r in range(first_replica, replicas + 1):
            parts = []
            for doc_id, items in by_doc.items():
                new_id = f"{doc_id}~r{r}"
                article = replace(base_articles[doc_id], doc_id=new_id)
                chunks = [replace(c, doc_id=new_id, chunk_id=f"{new_id}#{c.chunk_id.rsplit('#', 1)[1]}") for c, _ in items]
                vectors = np.stack([v for _, v in items])
                parts.append(ArticlePart(article, chunks, vectors, first=False, last=True, n_chunks=len(chunks)))
                if sum(len(p.chunks) for p in parts) >= 1000:
                    written += store.write_parts(parts)
                    parts = []
            if parts:
                written += store.write_parts(parts)
            emit({"bench": "build_progress", "index": label, "replica": r, "chunks": have + written,
                  "seconds": round(time.perf_counter() - start, 1), "load_avg_1m": os.getloadavg()[0]})
        seconds = time.perf_counter() - start
        chunks = store.count()
        del store
        tmp.rename(index)
        emit({"bench": "build", "index": label, "chunks": chunks, "replicas": replicas, "seconds": round(seconds, 1),
              "write_chunks_per_s": round(written / max(seconds, 1e-9), 1), "load_avg_1m": os.getloadavg()[0]})
        previous = index


def child_lexical_replicas(base_index: str, base_jsonl: str, target: str, out: str) -> None:
    """The lexical file of a replica index written by `child_build` before it kept one itself (the
    1M index of 2026-11-24): the same chunks, ids, versions and order the build wrote, each base
    chunk's terms computed once. Installed beside the index once its build is complete."""
    from dataclasses import replace

    import qa_bot.store.fts as fts
    from qa_bot.ingest.loaders import make_article, parse_date
    from qa_bot.store import ChromaStore
    from qa_bot.store.chroma import article_version

    start = time.perf_counter()
    base = ChromaStore(Path(base_index))
    by_doc: dict[str, list] = {}
    for chunk in base.iter_chunks():
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    registered = {r.doc_id: r.version for r in base.articles()}
    records = [json.loads(line) for line in Path(base_jsonl).open(encoding="utf-8")]
    hashes = {
        r["id"]: make_article(r["id"], r["text"], title=r.get("title") or "", published=parse_date(r.get("published"))).content_hash
        for r in records
    }
    plain_terms = fts.chunk_terms
    memo: dict[tuple, list[str]] = {}

    def memo_terms(chunk):  # a replica's terms are its base chunk's
        key = (chunk.title, chunk.text, chunk.source)
        if key not in memo:
            memo[key] = plain_terms(chunk)
        return memo[key]

    fts.chunk_terms = memo_terms
    path = Path(out)
    path.unlink(missing_ok=True)
    index = fts.LexicalIndex(path, create=True, bulk=True)
    index.replace([], [c for chunks in by_doc.values() for c in chunks], {d: registered.get(d, "") for d in by_doc})
    base_n = sum(len(v) for v in by_doc.values())
    for r in range(1, -(-int(target) // base_n)):
        batch, versions = [], {}
        for doc_id, chunks in by_doc.items():
            new_id = f"{doc_id}~r{r}"
            batch += [replace(c, doc_id=new_id, chunk_id=f"{new_id}#{c.chunk_id.rsplit('#', 1)[1]}") for c in chunks]
            versions[new_id] = article_version(hashes[doc_id], "", len(chunks))
        index.replace([], batch, versions)
    emit({"bench": "lexical_replicas", "chunks": len(index), "seconds": round(time.perf_counter() - start, 1),
          "mb": round(path.stat().st_size / 1e6), "load_avg_1m": os.getloadavg()[0]})
    index.close()


def child_query(index: str, label: str, n_questions: str, build_cache: str, base_index: str = "", writes: str = "20") -> None:
    """ask() end to end, timed; the store, BM25 and encoder are wrapped with timers to see where
    the time goes (the pipeline itself is QABot's, untouched).

    The embedding cache starts as ingest leaves it: passage vectors in it (copied from the build
    cache, with their sentences' in-context vectors), the question and the shortlisted sentences
    read alone not. The "repeat" pass then has every vector cached."""
    from qa_bot import QABot

    # replicas share the base index's text, so its passages are the whole cache ingest would leave
    cache = cache_as_ingest_left_it(Path(base_index or index), Path(build_cache))
    bot = QABot(index_dir=index, cache_dir=cache)
    spent: dict[str, float] = {}
    start = time.perf_counter()
    lexical = bot.retriever.lexical.current()  # first use: the FTS5 file opened, or built once if missing
    lexical_ready_s = time.perf_counter() - start
    lexical_rebuilt = bot.retriever.lexical.rebuilds
    bot.embedder.warm_up()  # the model loads once per process (as `qa-bot serve` does); not a per-question cost
    bot.store.query = timed(spent, "dense_query", bot.store.query)
    bot.embedder.encode = timed(spent, "encode", bot.embedder.encode)
    index_cls = type(lexical)
    index_cls.search = timed(spent, "bm25", index_cls.search)

    questions = [json.loads(line) for line in QUESTIONS.open(encoding="utf-8")][: int(n_questions)]
    for q in questions[:3]:  # warm-up on other wording so kernels and caches are hot
        bot.ask(q["question"] + " (warm-up)", asked_on=q["asked_on"])
    for pass_name in ("first", "repeat"):
        spent.clear()
        latencies = []
        for q in questions:
            start = time.perf_counter()
            bot.ask(q["question"], asked_on=q["asked_on"])
            latencies.append((time.perf_counter() - start) * 1000)
        n = len(latencies)
        emit({
            "bench": "query", "index": label, "chunks": bot.count_chunks(), "pass": pass_name,
            "questions": n, "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1), "mean_ms": round(statistics.mean(latencies), 1),
            "per_question_ms": {k: round(v * 1000 / n, 1) for k, v in sorted(spent.items())},
            "lexical_ready_s": round(lexical_ready_s, 2), "lexical_built_whole": lexical_rebuilt,
            "load_avg_1m": os.getloadavg()[0],
        })
    after_write(bot, index, label, int(writes), questions[-int(writes):])
    shutil.rmtree(cache, ignore_errors=True)


def after_write(bot, index: str, label: str, n: int, questions: list[dict]) -> None:
    """Ingests one article the index does not hold, then times the next question, n times: a new
    question after the odd writes (its encoding included, as a user's would be), one asked before
    after the even ones (all vectors cached: what is left is the write's own cost to the question).
    Then deletes those articles again, timing the question after each delete as well. The lexical
    index must find each new article by its title right away, without a rebuild."""
    from qa_bot.ingest.loaders import make_article, parse_date

    held = {r.split("~")[0] for r in (json.loads(line)["id"] for line in (Path(index).parent / "base.jsonl").open())}
    fresh = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["id"] not in held and len(record["text"].split()) > 80 and record.get("title"):
                fresh.append(record)
            if len(fresh) == n:
                break
    folder = Path(index).parent / f"fresh-{label}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    rebuilds = bot.retriever.lexical.rebuilds
    ingest_ms, first_ms, repeat_ms, found, missed, delete_ms, after_delete_ms = [], [], [], 0, [], [], []
    for i, (record, q) in enumerate(zip(fresh, questions)):
        path = folder / f"{record['id']}.jsonl"
        write_jsonl(path, [record])
        start = time.perf_counter()
        bot.ingest([path])
        ingest_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        bot.ask(q["question"] + (" (after a write)" if i % 2 == 0 else ""), asked_on=q["asked_on"])
        (first_ms if i % 2 == 0 else repeat_ms).append((time.perf_counter() - start) * 1000)
        hits = bot.retriever.lexical.current().search(record["title"], 5)
        if any(h.chunk.doc_id == record["id"] for h in hits):
            found += 1
        else:
            missed.append({"title": record["title"], "top": [h.chunk.title for h in hits[:2]]})
    for record, q in zip(fresh, questions):
        start = time.perf_counter()
        bot.remove([record["id"]])
        delete_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        bot.ask(q["question"] + " (after a delete)", asked_on=q["asked_on"])
        after_delete_ms.append((time.perf_counter() - start) * 1000)
    shutil.rmtree(folder, ignore_errors=True)
    emit({
        "bench": "after_write", "index": label, "writes": len(ingest_ms),
        "new_question_p50_ms": round(percentile(first_ms, 50), 1),
        "new_question_p95_ms": round(percentile(first_ms, 95), 1),
        "asked_before_question_p50_ms": round(percentile(repeat_ms, 50), 1),
        "asked_before_question_p95_ms": round(percentile(repeat_ms, 95), 1),
        "ingest_one_article_p50_ms": round(percentile(ingest_ms, 50), 1),
        "new_article_found_lexically": f"{found}/{len(ingest_ms)}", "missed": missed,
        "lexical_built_whole_during_writes": bot.retriever.lexical.rebuilds - rebuilds,
        "delete_p50_ms": round(percentile(delete_ms, 50), 1),
        "question_after_delete_p95_ms": round(percentile(after_delete_ms, 95), 1),
        "load_avg_1m": os.getloadavg()[0],
    })


def child_lexical(index: str, label: str) -> None:
    """Deletes the index's lexical file and times a bot building it again from the collection."""
    from qa_bot import QABot

    for path in Path(index).glob("*_lexical.fts5*"):
        path.unlink()
    bot = QABot(index_dir=index)
    start = time.perf_counter()
    lexical = bot.retriever.lexical.current()
    seconds = time.perf_counter() - start
    path = next(Path(index).glob("*_lexical.fts5"), None)
    emit({"bench": "lexical_build", "index": label, "chunks": len(lexical), "seconds": round(seconds, 1),
          "chunks_per_s": round(len(lexical) / max(seconds, 1e-9)), "built_whole": bot.retriever.lexical.rebuilds,
          "mb": round(path.stat().st_size / 1e6) if path else None, "load_avg_1m": os.getloadavg()[0]})


# ---- cold start: a real `qa-bot ask` process ------------------------------------------------------
def cold(index: Path, label: str, build_cache: Path, runs: int = 3, drop_snapshot: bool = False,
         base_index: Path | None = None) -> dict:
    """Start to answer of a new process, for a question never asked (passages cached by ingest)."""
    question = "Which company announced layoffs this week?"
    times, rss = [], []
    for i in range(runs):
        if drop_snapshot:
            for p in index.glob("*_lexical.fts5*"):
                p.unlink()
        cache = cache_as_ingest_left_it(base_index or index, build_cache)
        env = {**os.environ, "QA_BOT_CACHE_DIR": cache}
        start = time.perf_counter()
        proc = subprocess.Popen(
            # this checkout's qa_bot (cwd), not whichever the console script was installed from
            [sys.executable, "-m", "qa_bot.cli", "ask", f"{question} ({i})", "--index", str(index)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        rss.append(usage.ru_maxrss / 1024)
        shutil.rmtree(cache, ignore_errors=True)
        if os.waitstatus_to_exitcode(status) != 0:
            return {"bench": "cold_ask", "index": label, "error": proc.stderr.read().decode()[-300:]}
    return {
        "bench": "cold_ask", "index": label, "lexical_file": not drop_snapshot, "runs": runs,
        "median_s": round(statistics.median(times), 2), "max_s": round(max(times), 2),
        "peak_rss_mb": round(max(rss)), "load_avg_1m": os.getloadavg()[0],
    }


# ---- driver ---------------------------------------------------------------------------------------
def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        globals()[f"child_{sys.argv[2]}"](*sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-speed"), help="indexes and scratch files")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "qa-bot",
                        help="embedding cache used to build the big indexes (replicas are cache hits)")
    parser.add_argument("--encode-chunks", type=int, default=1024)
    parser.add_argument("--ingest-chunks", type=int, default=2000)
    parser.add_argument("--base-chunks", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000],
                        help="index sizes in chunks to build and measure, e.g. --sizes 100000 1000000")
    args = parser.parse_args()
    labels = [size_label(n) for n in sorted(args.sizes)]
    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    args.work.mkdir(parents=True, exist_ok=True)
    emit({"bench": "machine", **machine()})

    if "encode" in steps:
        rates = {}
        for precision in ("fp32", "bf16"):
            for r in in_child("encode", precision, str(args.encode_chunks)):
                emit(r)
                rates[precision] = r.get("chunks_per_s")
        import numpy as np

        a, b = np.load("/tmp/qa-speed-encode-fp32.npy"), np.load("/tmp/qa-speed-encode-bf16.npy")
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        emit({"bench": "encode_compare", "bf16_over_fp32": round(rates["bf16"] / rates["fp32"], 2),
              "cosine_min": round(float(cos.min()), 5), "cosine_mean": round(float(cos.mean()), 5)})
    if "ingest" in steps:
        for r in in_child("ingest", str(args.work), str(args.ingest_chunks), "bf16"):
            emit(r)
    if "build" in steps:
        sizes = ",".join(str(n) for n in sorted(args.sizes))
        for r in in_child("build", str(args.work), str(args.base_chunks), sizes, str(args.cache)):
            emit(r)
    if "query" in steps:
        for label in labels:
            base = args.work / f"index-{size_label(args.base_chunks)}"
            for r in in_child("query", str(args.work / f"index-{label}"), label, str(args.questions), str(args.cache), str(base)):
                emit(r)
    if "lexical" in steps:
        for label in labels:
            for r in in_child("lexical", str(args.work / f"index-{label}"), label):
                emit(r)
    if "cold" in steps:
        seed = args.work / "index-seed"
        seed_cache = args.work / "seed-cache"
        if not (seed_cache / "embeddings.sqlite").exists():  # the seed's passages in a cache of its own
            shutil.rmtree(seed, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "qa_bot.cli", "ingest", "seeds/", "--index", str(seed)],
                           cwd=ROOT, check=True, capture_output=True, env={**os.environ, "QA_BOT_CACHE_DIR": str(seed_cache)})
        emit(cold(seed, "seed", seed_cache))
        base = args.work / f"index-{size_label(args.base_chunks)}"
        for label in labels:
            emit(cold(args.work / f"index-{label}", label, args.cache, base_index=base))
        if "100k" in labels:  # what a missing lexical file costs a cold start once
            emit(cold(args.work / "index-100k", "100k", args.cache, runs=1, drop_snapshot=True, base_index=base))


if __name__ == "__main__":
    main()
