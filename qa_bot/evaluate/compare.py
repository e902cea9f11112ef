"""`qa-bot eval --compare A.json B.json ...`: saved metric objects side by side, deltas against the first."""

from __future__ import annotations

import json
from pathlib import Path

from qa_bot.errors import InputError
from qa_bot.evaluate.metrics import LOWER_IS_BETTER, METRIC_KEYS


def load_metrics(path: str | Path) -> dict:
    """A metrics object saved from `eval --json` (its last non-empty line), or an `--out` folder."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.json"
    if not path.is_file():
        raise InputError(f"{path} does not exist; give files saved from `qa-bot eval --json` or `--out` folders.")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    candidates = ["\n".join(lines)] + lines[::-1]  # a pretty-printed file, or the last JSON line of a log
    for text in candidates:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and "metrics" in data and isinstance(data["metrics"], dict):
            data = data["metrics"]
        if isinstance(data, dict) and any(k in data for k in METRIC_KEYS):
            return data
    raise InputError(f"{path} holds no metrics object from `qa-bot eval --json`.")


def compare(paths: list[str | Path]) -> dict:
    """{"runs": [names], "metrics": {key: {"values": [...], "deltas": [...]}}}; deltas are run − first run."""
    if len(paths) < 2:
        raise InputError("--compare needs at least two metric files.")
    runs = [load_metrics(p) for p in paths]
    table = {}
    for key in METRIC_KEYS:
        values = [r.get(key) for r in runs]
        base = values[0]
        deltas = [
            None if (v is None or base is None) else round(v - base, 4)
            for v in values[1:]
        ]
        table[key] = {"values": values, "deltas": deltas}
    return {"runs": [str(p) for p in paths], "metrics": table}


def _fmt(value, key: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:,.1f}" if key.startswith("latency") else f"{value:.3f}"


def _delta(key: str, value) -> str:
    if value is None:
        return "—"
    if value == 0 or key in ("n", "n_answerable"):
        return f"{value:+g}" if value else "0"
    better = (value < 0) if key in LOWER_IS_BETTER else (value > 0)
    text = f"{value:+,.1f}" if key.startswith("latency") else f"{value:+.3f}"
    return f"{text} {'better' if better else 'worse'}"


def format_table(result: dict) -> str:
    """A plain-text table: metric, each run, then each later run's delta against the first."""
    names = [Path(r).name if Path(r).name != "metrics.json" else Path(r).parent.name for r in result["runs"]]
    header = ["metric", *names, *[f"Δ {n}" for n in names[1:]]]
    rows = [header]
    for key, entry in result["metrics"].items():
        rows.append([key, *(_fmt(v, key) for v in entry["values"]), *(_delta(key, d) for d in entry["deltas"])])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.extend(f"{n}: {r}" for n, r in zip(names, result["runs"]))
    return "\n".join(lines)
