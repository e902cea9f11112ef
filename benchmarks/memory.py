"""Where a bot process's memory goes, step by step, on an index built by speed.py; one JSON line.

    .venv/bin/python benchmarks/memory.py --work /tmp/qa-speed --index 100k

The steps are speed.py's `query` measurement (the one whose peak RSS issue 15 holds to 3 GB), in
its order: open the index, warm up, 3 warm-up questions, 100 new questions, the same 100 again,
then 20 one-article ingests each followed by a question and 20 deletes. After each step it reads
the process's RSS and peak RSS (VmRSS, VmHWM; file-backed pages such as a memory-mapped file
count in both) and, at the end, which mappings hold the most. It works on a copy of the index,
which it deletes afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import speed  # noqa: E402  (benchmarks/ is on sys.path when run as a script; puts the checkout first)


def status() -> dict[str, int]:
    """RSS, peak RSS and their anonymous and file-backed parts, in MB."""
    wanted = {"VmRSS": "rss_mb", "VmHWM": "peak_mb", "RssAnon": "anon_mb", "RssFile": "file_mb"}
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            found[wanted[key]] = int(value.split()[0]) // 1024
    return found


def biggest_mappings(n: int = 6) -> dict[str, int]:
    """The mappings holding the most resident memory (anonymous ones summed), in MB."""
    sizes: dict[str, int] = {}
    name = "[anon]"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and not parts[0].endswith(":"):
            name = parts[5] if len(parts) > 5 else "[anon]"
        elif parts and parts[0] == "Rss:":
            sizes[name] = sizes.get(name, 0) + int(parts[1])
    ranked = sorted(sizes.items(), key=lambda item: -item[1])[:n]
    return {Path(k).name if k.startswith("/") else k: v // 1024 for k, v in ranked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-speed"), help="speed.py's --work folder")
    parser.add_argument("--index", default="100k", help="which index-<label> of it")
    parser.add_argument("--base", default="10k", help="the base index the replicas copy")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "qa-bot", help="speed.py's --cache")
    args = parser.parse_args()
    source = args.work / f"index-{args.index}"
    if not (source / "chroma.sqlite3").exists():
        sys.exit(f"{source} holds no index; build it first with benchmarks/speed.py --only build.")

    from qa_bot import QABot

    steps: dict[str, dict[str, int]] = {}
    start = time.perf_counter()

    def mark(step: str) -> None:
        steps[step] = {**status(), "s": round(time.perf_counter() - start)}

    scratch = Path(tempfile.mkdtemp(prefix="qa-memory-", dir=args.work))
    try:
        index = scratch / f"index-{args.index}"
        shutil.copytree(source, index)
        shutil.copy(args.work / "base.jsonl", scratch / "base.jsonl")  # after_write skips its articles
        cache = speed.cache_as_ingest_left_it(args.work / f"index-{args.base}", args.cache)
        mark("imports")
        bot = QABot(index_dir=index, cache_dir=cache)
        bot.retriever.lexical.current()
        mark("open")
        bot.embedder.warm_up()
        mark("warm_up")
        questions = [json.loads(line) for line in speed.QUESTIONS.open(encoding="utf-8")][:100]
        for q in questions[:3]:
            bot.ask(q["question"] + " (warm-up)", asked_on=q["asked_on"])
        mark("ask_3_warm_up")
        for step in ("ask_100_new", "ask_100_again"):
            for q in questions:
                bot.ask(q["question"], asked_on=q["asked_on"])
            mark(step)
        ingest, remove, counts = bot.ingest, bot.remove, {"ingest": 0, "remove": 0}

        def counted_ingest(paths):
            report = ingest(paths)
            counts["ingest"] += 1
            if counts["ingest"] in (1, 20):
                mark(f"ingest_{counts['ingest']}")
            return report

        def counted_remove(doc_ids):
            remove(doc_ids)
            counts["remove"] += 1
            if counts["remove"] == 20:
                mark("delete_20")

        bot.ingest, bot.remove = counted_ingest, counted_remove
        with open(os.devnull, "w") as quiet:  # after_write prints its own line; this one is ours
            stdout, sys.stdout = sys.stdout, quiet
            try:
                speed.after_write(bot, str(index), args.index, 20, questions[-20:])
            finally:
                sys.stdout = stdout
        mark("end")
        speed.emit({
            "bench": "memory", "index": args.index, "chunks": bot.count_chunks(), "steps": steps,
            "biggest_mappings_mb": biggest_mappings(), "peak_rss_mb": status()["peak_mb"],
            "load_avg_1m": os.getloadavg()[0],
        })
        shutil.rmtree(cache, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
