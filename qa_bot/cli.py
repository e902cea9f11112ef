"""`qa-bot ingest | ask | chat | serve | eval`: a thin shell over QABot; user errors exit 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from qa_bot.errors import QABotError

EXIT_USER_ERROR = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe


def _bot(args: argparse.Namespace, **extra):
    from qa_bot.api import QABot

    return QABot(
        index_dir=getattr(args, "index", None),
        chroma_url=getattr(args, "chroma_url", None),
        **extra,
    )


def _progress_bar(enabled: bool):
    """A tqdm bar on a terminal; silent when piped."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(unit=" articles", desc="ingest", file=sys.stderr)

    def update(count: int, doc_id: str) -> None:
        bar.n = count
        bar.set_postfix_str(doc_id[:30], refresh=False)
        bar.refresh()

    return update, bar.close


def cmd_ingest(args: argparse.Namespace) -> int:
    bot = _bot(args)
    while True:
        progress, close = _progress_bar(sys.stderr.isatty())
        try:
            report = bot.ingest(args.paths, sync=args.sync, progress=progress)
        finally:
            close()
        for reason in report.skipped:
            print(f"skipped: {reason}", file=sys.stderr)
        print(report.summary(), flush=True)
        if not args.follow:
            return 0
        time.sleep(args.every)  # Ctrl-C ends the polling; what was indexed is kept


def _duration(value: str) -> float:
    """'30s', '15m', '2h' or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    text = value.strip().lower()
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration like 30s, 15m or 2h, got '{value}'") from None
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"the polling interval must be at least 1 second, got '{value}'")
    return seconds


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    if answer.standalone_question and answer.standalone_question != answer.question:
        print(f"(understood as: {answer.standalone_question})")
    if answer.short_answer:
        print(answer.short_answer.text)
    print(answer.text)
    for c in answer.citations:
        where = " — ".join(x for x in (c.title, c.source, f"p. {c.page}" if c.page else "") if x)
        print(f"  [{c.n}] {where}\n      “{c.sentence}”")


def filters_from(args: argparse.Namespace):
    """The metadata filters of `add_filter_options`, or None when none was given."""
    from qa_bot.store import Filters

    return Filters(
        sources=tuple(args.source or ()),
        published_from=args.since,
        published_to=args.until,
    ) or None


class _SlowSteps:
    """Says on stderr when a step is slow to come back from (loading the language model, ~20 s),
    and how long it took, so a terminal does not sit silent; other steps stay quiet."""

    def __init__(self) -> None:
        self.started: float | None = None

    def __call__(self, step: str) -> None:
        if step.startswith("Loading"):
            self.started = time.monotonic()
            print(step, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.started is not None:
            print(f"(loaded and answered in {time.monotonic() - self.started:.0f} s)", file=sys.stderr, flush=True)
            self.started = None


def cmd_ask(args: argparse.Namespace) -> int:
    bot = _bot(args)
    steps = _SlowSteps()
    answer = bot.ask(
        args.question,
        asked_on=args.asked_on,
        top_k=args.top_k,
        filters=filters_from(args),
        answerer=args.answerer,
        on_progress=steps,
    )
    steps.done()
    _print_answer(answer, args.json)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    bot = _bot(args)
    history: list[dict] = []
    print("Ask about the indexed articles; an empty line or Ctrl-D ends.", file=sys.stderr)
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        steps = _SlowSteps()
        try:
            answer = bot.ask(question, history=history, answerer=args.answerer, on_progress=steps)
        except QABotError as exc:
            print(exc, file=sys.stderr)
            continue
        steps.done()
        _print_answer(answer, False)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def cmd_serve(args: argparse.Namespace) -> int:
    from qa_bot.web.auth import Credentials
    from qa_bot.web.server import check_port_free, serve

    auth = Credentials.parse(args.auth) if args.auth else None
    check_port_free(args.host, args.port)  # before an ingest that would be wasted
    bot = _bot(args)
    if args.ingest_if_empty and bot.count_chunks() == 0:
        print(bot.ingest(args.ingest_if_empty).summary(), file=sys.stderr)
    serve(bot, host=args.host, port=args.port, auth=auth)
    return 0


def _date(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-25, got '{value}'") from None


def _store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", type=Path, help="index folder (default: $QA_BOT_INDEX_DIR or ./index)")
    p.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 ($QA_BOT_CHROMA_URL)")


def _question_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--answerer", help="extractive (default) or llm")
    p.add_argument("--top-k", type=int, help="passages to retrieve")
    add_filter_options(p)


def add_filter_options(p: argparse.ArgumentParser) -> None:
    """--source/--since/--until, shared by `ask` and `eval`."""
    p.add_argument("--source", action="append", help="only articles from this source (repeatable)")
    p.add_argument("--since", type=_date, help="only articles published on or after this date")
    p.add_argument("--until", type=_date, help="only articles published on or before this date")


class _Parser(argparse.ArgumentParser):
    """Command-line mistakes are user errors too: one sentence and exit 2, not a usage block."""

    def error(self, message: str):
        print(f"error: {message[:1].upper()}{message[1:]} (see `{self.prog} --help`).", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qa-bot", description="Cited answers from your news articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "ingest", help="index files, folders, article URLs or RSS/Atom feeds (.txt .md .html .jsonl .pdf .docx .opml .urls)"
    )
    p.add_argument("paths", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--sync", action="store_true", help="also remove indexed articles whose files are gone")
    p.add_argument("--follow", action="store_true", help="keep polling the given feeds and pages for new articles")
    p.add_argument("--every", type=_duration, default=900.0, metavar="DURATION", help="with --follow: how often (default 15m)")
    _store_options(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--asked-on", type=_date, help="the date 'next' and 'latest' are relative to (default: today)")
    _store_options(p)
    _question_options(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="ask questions in a terminal conversation")
    p.add_argument("--answerer", help="extractive (default) or llm")
    _store_options(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("serve", help="serve the web chat")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument(
        "--auth", default=os.environ.get("QA_BOT_AUTH") or None, metavar="USER:PASSWORD",
        help="require this login on the page and this password as the /v1 API key ($QA_BOT_AUTH)",
    )
    p.add_argument("--ingest-if-empty", nargs="*", type=Path, default=None, help="index these paths first when the index is empty")
    _store_options(p)
    p.set_defaults(func=cmd_serve)

    _register_eval(sub)
    return parser


def _register_eval(sub) -> None:
    """The eval command lives with the evaluator; it is optional while that module is being built."""
    try:
        from qa_bot.evaluate.cli import register
    except ImportError:
        return
    register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        code = func(args)
        sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
        return code
    except QABotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted; what was indexed before is kept.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (`| head`) has gone: stop quietly; stdout points at devnull so the
        # interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
