"""Crash safety: `qa-bot ingest` SIGKILLed in the middle of a corpus, then run again, ends with the
same index a clean run builds: no duplicate or orphan chunks, and no article marked done (in the
registry) without all of its chunks."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from conftest import ROOT, SHARED_EVAL

QA_BOT = [sys.executable, "-m", "qa_bot.cli"]
N_ARTICLES = 200  # ~1,300 chunks: three 512-chunk write batches


def _corpus(path: Path) -> dict[str, dict]:
    """Real 2025 news articles of ordinary length from the realtimeqa corpus."""
    rows: dict[str, dict] = {}
    with gzip.open(SHARED_EVAL / "realtimeqa" / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if 150 <= len(row["text"].split()) <= 700:
                rows[row["id"]] = row
            if len(rows) == N_ARTICLES:
                break
    path.write_text("".join(json.dumps(r) + "\n" for r in rows.values()), encoding="utf-8")
    return rows


def _state(index: Path) -> tuple[dict[str, tuple[str, int]], Counter, list[str]]:
    """(registry: doc_id → (content hash, n_chunks), chunks per doc_id, every chunk id)."""
    from qa_bot.store import ChromaStore

    store = ChromaStore(index)
    registry = {r.doc_id: (r.content_hash, r.n_chunks) for r in store.articles()}
    ids, per_doc = [], Counter()
    for chunk in store.iter_chunks():
        ids.append(chunk.chunk_id)
        per_doc[chunk.doc_id] += 1
    return registry, per_doc, ids


def _kill_mid_ingest(corpus: Path, index: Path, kill_at_bytes: int) -> int:
    """Starts the CLI and SIGKILLs it once the index file has grown past `kill_at_bytes` (watched by
    size only, so the watcher never takes a lock the writer needs)."""
    proc = subprocess.Popen(
        [*QA_BOT, "ingest", str(corpus), "--index", str(index)],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    db = index / "chroma.sqlite3"
    deadline = time.monotonic() + 180
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if db.exists() and db.stat().st_size >= kill_at_bytes:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None and time.monotonic() >= deadline:
            proc.kill()
        proc.wait(timeout=60)
        proc.stderr.close()
    return proc.returncode


def test_sigkill_mid_ingest_then_rerun_equals_a_clean_run(tmp_path):
    from qa_bot import QABot

    corpus = tmp_path / "corpus.jsonl"
    rows = _corpus(corpus)

    # the clean run first: it also fills the embedding cache, so the runs below spend their time
    # writing to Chroma, which is where a kill can tear something
    clean = tmp_path / "clean"
    clean_report = QABot(index_dir=clean).ingest([corpus])
    assert clean_report.total_articles == N_ARTICLES
    clean_registry, clean_per_doc, clean_ids = _state(clean)
    assert len(clean_ids) > 2 * 512  # several write batches

    # killed twice: first while the first batches go in, then again while the re-run repairs that;
    # a kill often lands between a batch's chunks and its registry entries, leaving unregistered
    # chunks behind for the next run to replace
    crashed, full_size = tmp_path / "crashed", (clean / "chroma.sqlite3").stat().st_size
    registered_before = 0
    for fraction in (0.3, 0.7):
        returncode = _kill_mid_ingest(corpus, crashed, int(full_size * fraction))
        assert returncode == -signal.SIGKILL, "ingest finished before it could be killed"
        registry, per_doc, ids = _state(crashed)
        assert 0 < len(ids) and registered_before <= len(registry) < N_ARTICLES
        for doc_id, (content_hash, n_chunks) in registry.items():  # done means complete
            assert per_doc[doc_id] == n_chunks == clean_registry[doc_id][1], doc_id
            assert content_hash == clean_registry[doc_id][0]
        unregistered = sum(n for doc_id, n in per_doc.items() if doc_id not in registry)
        print(f"killed at {fraction:.0%}: {len(registry)} articles done, {unregistered} unregistered chunks")
        registered_before = len(registry)

    rerun = subprocess.run(
        [*QA_BOT, "ingest", str(corpus), "--index", str(crashed)],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{registered_before} unchanged" in rerun.stdout  # finished articles are not redone

    registry, per_doc, ids = _state(crashed)
    assert len(ids) == len(set(ids))
    assert registry == clean_registry
    assert per_doc == clean_per_doc  # no chunks of unregistered articles, none missing
    assert sorted(ids) == sorted(clean_ids)
    assert set(registry) == set(rows)
    answer = QABot(index_dir=crashed).ask("What is this article about?", top_k=3)  # the index reads fine
    assert answer.passages
