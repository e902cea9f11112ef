"""`qa-bot eval`: score QABot against a gold set, or compare saved runs; registered by qa_bot/cli.py."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa_bot.cli import add_filter_options, filters_from
from qa_bot.errors import InputError
from qa_bot.evaluate.metrics import METRIC_KEYS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval",
        help="score answers against a gold Q&A set (corpus.jsonl + questions.jsonl)",
        description="Index the corpus, ask every gold question through qa-bot, and score retrieval, "
        "answers, citations, abstention and latency.",
    )
    p.add_argument("--corpus", type=Path, help="corpus.jsonl or corpus.jsonl.gz")
    p.add_argument("--questions", type=Path, help="questions.jsonl")
    p.add_argument("--index", type=Path, help="index folder to (re)use; default: a temporary one")
    p.add_argument("--chroma-url", help="use a Chroma server instead of a folder")
    p.add_argument("--answerer", help="extractive (default) or llm")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--split", choices=("tune", "check", "all"), default="all",
                   help="half of the questions by a stable hash of their id: tune on one, check on the other")
    add_filter_options(p)  # every question is asked with them, as `qa-bot ask --source …` would
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object (last line)")
    p.add_argument("--out", type=Path, help="write report.html, results.jsonl and metrics.json here")
    p.add_argument("--compare", nargs="+", metavar="RUN", help="compare saved metrics (files from --json, or --out folders)")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    if args.compare:
        return _cmd_compare(args)
    if not args.corpus or not args.questions:
        raise InputError("eval needs --corpus FILE and --questions FILE (or --compare A.json B.json).")
    if args.limit is not None and args.limit <= 0:
        raise InputError(f"--limit must be > 0, got {args.limit}.")
    from qa_bot.evaluate.runner import evaluate

    run = evaluate(
        args.corpus,
        args.questions,
        index_dir=args.index,
        answerer=args.answerer,
        limit=args.limit,
        chroma_url=args.chroma_url,
        filters=filters_from(args),
        split=args.split,
    )
    unknown = run.meta.get("unknown_evidence_ids") or []
    if unknown:
        print(f"warning: gold evidence ids not in the corpus (first {len(unknown)}): {', '.join(unknown)}", file=sys.stderr)
    if args.out:
        write_outputs(run, args.out)
        print(f"report: {args.out / 'report.html'}", file=sys.stderr)
    if args.json:
        print(json.dumps(run.metrics, ensure_ascii=False))
    else:
        print(format_metrics(run.metrics, run.meta))
    return 0


def write_outputs(run, out: Path) -> None:
    """report.html, results.jsonl (one line per question) and metrics.json (what --compare reads)."""
    from qa_bot.evaluate.report import render_report

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the output folder {out}: {exc.strerror}.") from None
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for result in run.results:
            handle.write(json.dumps(result.to_record(), ensure_ascii=False) + "\n")
    (out / "metrics.json").write_text(json.dumps(run.metrics, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render_report(run), encoding="utf-8")


def _cmd_compare(args: argparse.Namespace) -> int:
    from qa_bot.evaluate.compare import compare, format_table

    result = compare(args.compare)
    print(json.dumps(result, ensure_ascii=False) if args.json else format_table(result))
    return 0


def format_metrics(metrics: dict, meta: dict | None = None) -> str:
    """The metrics as aligned lines, then one line per question type."""
    lines = []
    if meta:
        lines.append(f"{meta.get('questions')} — {metrics['n']} questions ({metrics['n_answerable']} answerable), "
                     f"answerer {meta.get('answerer')}; index: {meta.get('ingest')}")
        if meta.get("filters"):
            lines.append(f"only articles {meta['filters']}")
    for key in METRIC_KEYS:
        value = metrics.get(key)
        if value is None:
            shown = "—"
        elif isinstance(value, int):
            shown = str(value)
        else:
            shown = f"{value:,.1f} ms" if key.startswith("latency") else f"{value:.3f}"
        lines.append(f"  {key:<22} {shown:>11}")
    by_type = metrics.get("by_type") or {}
    if len(by_type) > 1:
        lines.append("  by type                 n  hit@5  contained  abstention")
        for name, m in by_type.items():
            cells = [m.get("evidence_hit@5"), m.get("answer_contained"), m.get("abstention_accuracy")]
            shown = ["    —" if c is None else f"{c:5.3f}" for c in cells]
            lines.append(f"    {name[:20]:<20} {m['n']:>3}  {shown[0]}  {shown[1]:>9}  {shown[2]:>10}")
    return "\n".join(lines)
