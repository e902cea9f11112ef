"""One big article through `qa-bot ingest`: time, chunks/s and peak RSS per size, one JSON line.

    .venv/bin/python benchmarks/big_article.py                 # 1, 5 and 10 MB
    .venv/bin/python benchmarks/big_article.py --sizes 50      # the issue's 50 MB case (~30 min)

Each size is a fresh file of generated text on a single line (the issue's case: an upload with no
line breaks), ingested by the CLI in a child process into a fresh index with a fresh embedding
cache, so every chunk is embedded. `peak_rss_mb` is the child's own peak (its rusage), model
included. `--punctuated` writes sentences with full stops; the default has none, so the chunker's
word ceiling is what cuts it. `cpu_seconds_per_mb` staying flat across sizes is what "linear"
means (wall time on a shared machine moves with the other jobs).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "the harbour council vote budget storm river city people market school road bridge report "
    "minister talks february ceasefire delegation museum festival railway station hospital"
).split()


def make_text(path: Path, megabytes: float, punctuated: bool, seed: int = 13) -> int:
    """Writes about `megabytes` MB of words on one line, in pieces (the generator holds little)."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            n = rng.randint(8, 30)
            words = " ".join(rng.choice(WORDS) for _ in range(n))
            piece = (words.capitalize() + ". ") if punctuated else words + " "
            out.write(piece)
            written += len(piece)
    return written


def run_one(megabytes: float, punctuated: bool, work: Path) -> dict:
    folder = work / f"{megabytes:g}mb"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    article = folder / "big.txt"
    size = make_text(article, megabytes, punctuated)
    env = {**os.environ, "QA_BOT_CACHE_DIR": str(folder / "cache")}
    env.pop("QA_BOT_CHROMA_URL", None)
    start = time.perf_counter()
    with (folder / "out.txt").open("w") as out, (folder / "err.txt").open("w") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "qa_bot.cli", "ingest", str(article), "--index", str(folder / "index")],
            cwd=ROOT, env=env, stdout=out, stderr=err,
        )
        # reaped here rather than by Popen, for the child's own rusage: its peak RSS, model included
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest of {megabytes} MB failed: {(folder / 'err.txt').read_text()[-2000:]}")
    out = (folder / "out.txt").read_text()
    chunks = int(re.search(r"in (\d+) chunks", out).group(1))
    result = {
        "mb": megabytes,
        "bytes": size,
        "chunks": chunks,
        "seconds": round(seconds, 1),
        "chunks_per_s": round(chunks / seconds, 1),
        "seconds_per_mb": round(seconds / (size / 1e6), 1),
        # CPU time is what to compare across sizes on a shared machine: wall time moves with the load
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "cpu_seconds_per_mb": round((usage.ru_utime + usage.ru_stime) / (size / 1e6), 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1e3, 1),
        "index_mb": round(sum(p.stat().st_size for p in (folder / "index").rglob("*") if p.is_file()) / 1e6, 1),
    }
    shutil.rmtree(folder, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,5,10", help="megabytes, comma-separated")
    parser.add_argument("--punctuated", action="store_true", help="sentences with full stops")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-big-article-"))
    runs = []
    for size in (float(s) for s in args.sizes.split(",")):
        runs.append(run_one(size, args.punctuated, work))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)  # each size as it ends: big ones take long
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"benchmark": "big_article", "punctuated": args.punctuated, "cpus": os.cpu_count(), "runs": runs}))


if __name__ == "__main__":
    main()
