"""Quality: qa-bot eval on the dev gold sets beside the plain llama-index recipe on the same data.

Writes each run's report under --work (report.html, results.jsonl, metrics.json), keeps every
result in <work>/quality.json (so sets can be run separately and the table still holds them all),
rewrites the "## Quality" section of docs/BENCHMARKS.md, and prints one JSON line.

    .venv/bin/python benchmarks/quality.py                        # all four dev sets
    .venv/bin/python benchmarks/quality.py --sets seed squad2 --limit 100

Indexes live in <work>/index-<set> and are reused (ingest skips unchanged articles); embeddings
are cached in QA_BOT_CACHE_DIR, so a second run only pays for asking. Never run on heldout/ to tune.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(1, str(ROOT))  # this checkout's qa_bot, not whichever one the virtualenv installed

from baseline import evaluate_baseline  # noqa: E402

from qa_bot.evaluate.cli import write_outputs  # noqa: E402
from qa_bot.evaluate.metrics import summarize  # noqa: E402
from qa_bot.evaluate.runner import evaluate  # noqa: E402
from qa_bot.evaluate.split import half  # noqa: E402

SETS = ("seed", "squad2", "multihop_rag", "realtimeqa")
EVAL = ROOT.parent / "shared" / "eval"
DOC = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- quality:begin -->", "<!-- quality:end -->"
COLUMNS = (  # (metric key, column title)
    ("evidence_hit@1", "hit@1"),
    ("evidence_hit@5", "hit@5"),
    ("mrr", "MRR"),
    ("answer_contained", "contained"),
    ("answer_f1", "F1"),
    ("exact_match", "EM"),
    ("short_answer_f1", "short F1"),
    ("short_answer_em", "short EM"),
    ("citation_precision", "cite P"),
    ("citation_recall", "cite R"),
    ("abstention_accuracy", "abstain acc"),
    ("false_abstention_rate", "false abstain"),
    ("latency_ms_p50", "p50 ms"),
    ("latency_ms_p95", "p95 ms"),
)


def corpus_of(name: str) -> Path:
    folder = EVAL / name
    plain = folder / "corpus.jsonl"
    return plain if plain.exists() else folder / "corpus.jsonl.gz"


def _commit() -> str:
    """The code a run used: HEAD when the process started, "+dirty" when qa_bot/ had uncommitted edits."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qa_bot"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
    return head + ("+dirty" if dirty else "")


STARTED_AT = _commit()  # modules are imported now, so this is the code every set below runs


def corpus_prefix(corpus: Path, questions: Path, limit: int, work: Path) -> tuple[Path, int, int]:
    """The shortest leading part of the corpus that holds the evidence of the first `limit`
    questions (the shared corpora are in question order), written under `work`. For when the whole
    corpus cannot be embedded in the time there is; the rest of the prefix are real distractors."""
    from qa_bot.evaluate.gold import read_questions
    from qa_bot.ingest.loaders import iter_jsonl

    wanted = {e for q in read_questions(questions)[:limit] for e in q.evidence_ids}
    records, total = [], 0
    for _, record in iter_jsonl(corpus):
        total += 1
        if wanted:
            records.append(record)
            wanted.discard(str(record["id"]))
    target = work / f"{corpus.parent.name}-prefix-{len(records)}.jsonl"
    if not target.exists():
        target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return target, len(records), total


def halves(results) -> dict:
    """The metrics of the `tune` and the `check` half of one run's questions."""
    return {h: summarize([r.score for r in results if half(r.gold.id) == h]) for h in ("tune", "check")}


def system_label(answerer: str) -> str:
    """The extractive answerer is qa-bot's default row; another answerer's rows are named after it."""
    return "qa-bot" if answerer == "extractive" else f"qa-bot {answerer}"


def run_set(
    name: str, work: Path, limit: int | None, baseline: bool, progress: bool, prefix: bool = False, split: str = "all",
    answerer: str = "extractive",
) -> dict:
    corpus, questions = corpus_of(name), EVAL / name / "questions.jsonl"
    entry = {"set": name, "limit": limit, "split": split, "when": datetime.now(timezone.utc).isoformat(timespec="minutes"), "commit": STARTED_AT}
    from qa_bot.settings import Settings

    # ingest skips articles whose text is unchanged, whatever the chunk size: an index per chunking
    chunking = f"w{Settings().chunk_words}"
    index = work / f"index-{name}-{chunking}"
    if prefix and limit:
        corpus, used, total = corpus_prefix(corpus, questions, limit, work)
        entry["corpus_prefix"] = [used, total]
        index = work / f"index-{name}-prefix-{used}-{chunking}"
    t = time.perf_counter()
    run = evaluate(corpus, questions, index_dir=index, answerer=answerer, limit=limit, progress=progress, split=split)
    label = system_label(answerer)
    write_outputs(run, work / "reports" / name / label.replace(" ", "-"))
    entry[label] = {
        "metrics": run.metrics, "meta": run.meta, "seconds": round(time.perf_counter() - t, 1),
        "limit": limit, "commit": STARTED_AT,
    }
    if split == "all":
        for h, metrics in halves(run.results).items():
            entry[f"{label} {h}"] = {"metrics": metrics}
    print(f"[{name}] {label} done in {entry[label]['seconds']} s", file=sys.stderr, flush=True)
    if baseline:
        t = time.perf_counter()
        base = evaluate_baseline(corpus, questions, limit, progress=progress)
        write_outputs(base, work / "reports" / name / "llama-index")
        entry["llama-index"] = {
            "metrics": base.metrics, "meta": base.meta, "seconds": round(time.perf_counter() - t, 1), "limit": limit,
        }
        for h, metrics in halves(base.results).items():
            entry[f"llama-index {h}"] = {"metrics": metrics}
        print(f"[{name}] llama-index done in {entry['llama-index']['seconds']} s", file=sys.stderr, flush=True)
    return entry


def _cell(value, key: str) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if key.startswith("latency") else f"{value:.3f}"


SYSTEMS = (
    "qa-bot", "qa-bot tune", "qa-bot check", "qa-bot llm", "qa-bot llm tune", "qa-bot llm check",
    "llama-index", "llama-index tune", "llama-index check",
)


def table(results: dict) -> str:
    head = "| set | system | n (answerable) | " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|" + "---|" * (3 + len(COLUMNS))
    lines = [head, rule]
    for name in [s for s in SETS if s in results] + [s for s in results if s not in SETS]:
        entry = results[name]
        for system in SYSTEMS:
            if system not in entry:
                continue
            m = entry[system]["metrics"]
            cells = " | ".join(_cell(m.get(k), k) for k, _ in COLUMNS)
            lines.append(f"| {name} | {system} | {m['n']} ({m['n_answerable']}) | {cells} |")
    return "\n".join(lines)


def runs_note(results: dict) -> str:
    notes = []
    for name in [s for s in SETS if s in results]:
        entry = results[name]
        for label in [k for k in entry if k.startswith("qa-bot ") and k in SYSTEMS and k.split()[-1] not in ("tune", "check")]:
            other = entry[label]
            partial = other.get("limit") and other["metrics"].get("n") == other["limit"]  # a set shorter than the limit is whole
            limit = f"first {other['limit']} questions" if partial else "all questions"
            notes.append(f"- **{name}**, `{label}` ({limit}; commit `{other.get('commit', '')}`): answerer {other['meta'].get('answerer')}.")
        if "qa-bot" not in entry:
            continue
        q = entry["qa-bot"]["meta"]
        own_limit = entry["qa-bot"].get("limit", entry.get("limit"))  # an llm run may have set the entry's
        limit = f"first {own_limit} questions" if own_limit else "all questions"
        if entry.get("corpus_prefix"):
            used, total = entry["corpus_prefix"]
            limit += (f", indexed over the first {used:,} of the {total:,} corpus articles (the shortest leading "
                      f"part holding all their evidence; the full corpus could not be embedded in the time available)")
        base = entry.get("llama-index", {}).get("meta", {})
        notes.append(
            f"- **{name}** ({limit}; commit `{entry['qa-bot'].get('commit', entry.get('commit', ''))}`, {entry['when']}): qa-bot index "
            f"{q.get('ingest', '')}; answerer {q.get('answerer')}, precision {q.get('settings', {}).get('precision')}, "
            f"chunk_words {q.get('settings', {}).get('chunk_words')}, top_k {q.get('settings', {}).get('top_k')}. llama-index: {base.get('ingest', 'not run')}."
        )
    return "\n".join(notes)


SECTION = """## Quality

`benchmarks/quality.py` runs `qa-bot eval` on the dev gold sets in `../shared/eval` and, on the same
corpus and questions, the plain llama-index recipe a user would otherwise pick
(`benchmarks/baseline.py`: `VectorStoreIndex` over Chroma, default `SentenceSplitter` (1024 tokens,
200 overlap), `similarity_top_k=5`, the same packaged all-MiniLM-L6-v2 at the same precision).
Retrieval metrics count answerable questions with gold evidence; answer and citation metrics count
answerable questions; abstention accuracy counts all. Latency is per question after indexing,
on {machine}, load average {load} when the table was written (other jobs share the cores: read
the latencies as upper bounds; `benchmarks/speed.py` measures speed).

Without an LLM the llama-index recipe has no answer text: its "answer" is its best passage, which
it cites, and it never abstains. So its `contained` says "the gold answer is somewhere in the top
passage" (a long one: up to 1,024 tokens), its F1/EM are low by construction, and its abstention
accuracy is the share of answerable questions. qa-bot answers with evidence sentences
(extractive answerer) and abstains below its evidence threshold. Compare the retrieval columns
like for like; compare the answer columns knowing that. One more caveat on realtimeqa: its
`evidence_text` is the answer string itself ("25%", "New York"), so there a passage counts as
relevant when it contains the answer, which favours long passages (the baseline's up to 1,024
tokens against qa-bot's ~60 words) in the retrieval and citation columns.

{table}

What was run:

{notes}

Reports (report.html per set and system) are written under the `--work` folder
(default `~/.cache/qa-bot/bench/reports`); re-run with
`.venv/bin/python benchmarks/quality.py [--sets ...] [--limit N]`. The `qa-bot llm` rows come from a
run with `--answerer llm --limit 100 --no-baseline` into the same `--work` folder (the packaged
SmolLM2-135M answers in ~8–12 s a question here); each row's question count is in its n column.
"""


def write_doc(results: dict) -> None:
    body = SECTION.format(
        machine=f"{platform.machine()}, {os.cpu_count()} cores, no GPU",
        load=f"{os.getloadavg()[0]:.1f}",
        table=table(results),
        notes=runs_note(results),
    ).strip()
    block = f"{BEGIN}\n{body}\n{END}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description="qa-bot vs. plain llama-index on the dev gold sets")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--limit", type=int, help="only the first N questions of each set (the whole corpus is still indexed)")
    parser.add_argument("--prefix-corpus", action="store_true",
                        help="with --limit: index only the leading part of the corpus holding those questions' evidence")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "qa-bot" / "bench")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--split", choices=("tune", "check", "all"), default="all",
                        help="ask only one half (stable hash of the question id); 'all' also reports both halves")
    parser.add_argument("--answerer", choices=("extractive", "llm"), default="extractive",
                        help="qa-bot's answerer; llm rows are added beside the extractive ones (use --limit: ~8 s a question)")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/BENCHMARKS.md")
    parser.add_argument("--doc-only", action="store_true", help="only rewrite docs/BENCHMARKS.md from <work>/quality.json")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    store = args.work / "quality.json"

    def load() -> dict:  # read afresh each time: another run may have added a set meanwhile
        return json.loads(store.read_text()) if store.exists() else {}

    if args.doc_only:
        write_doc(load())
        return 0
    progress = sys.stderr.isatty()
    for name in args.sets:
        entry = run_set(name, args.work, args.limit, not args.no_baseline, progress, args.prefix_corpus, args.split, args.answerer)
        results = load()
        old = results.get(name, {})
        if args.no_baseline and "llama-index" in old:
            # kept whatever this run's limit: like every system's row, it says its own question count
            entry.update({k: v for k, v in old.items() if k.startswith("llama-index")})
        # the other answerer's rows stay: each system's row says its own question count and commit
        label = system_label(args.answerer)
        ours = {label, f"{label} tune", f"{label} check"}
        entry.update({k: v for k, v in old.items() if k.startswith("qa-bot") and k not in ours})
        results[name] = entry
        store.write_text(json.dumps(results, indent=1))
        if not args.no_doc:
            write_doc(results)
    results = load()
    summary = {
        name: {sys_: {k: results[name][sys_]["metrics"].get(k) for k, _ in COLUMNS} for sys_ in ("qa-bot", "qa-bot llm", "llama-index") if sys_ in results[name]}
        for name in args.sets
    }
    print(json.dumps({"benchmark": "quality", "work": str(args.work), "results": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
