"""report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) that opens
offline. Every piece of text from a gold set or an article is escaped: articles may hold HTML."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from html import escape

from qa_bot.evaluate.metrics import LOWER_IS_BETTER
from qa_bot.evaluate.runner import EvalRun, QuestionResult

GROUPS = (
    ("Retrieval", ("evidence_hit@1", "evidence_hit@5", "mrr")),
    ("Answers", ("answer_contained", "answer_f1", "exact_match", "short_answer_f1", "short_answer_em")),
    ("Citations", ("citation_precision", "citation_recall")),
    ("Abstention", ("abstention_accuracy", "false_abstention_rate")),
    ("Latency", ("latency_ms_p50", "latency_ms_p95")),
)
CHART_METRICS = (  # per question type: (key, label, colour)
    ("evidence_hit@5", "evidence hit@5", "#4C78A8"),
    ("answer_contained", "answer contained", "#F58518"),
    ("citation_recall", "citation recall", "#54A24B"),
    ("abstention_accuracy", "abstention accuracy", "#B279A2"),
)

CSS = """
:root { --ink:#1d2430; --muted:#5b6473; --line:#e2e6ec; --bg:#f6f7f9; --good:#2f7d32; --bad:#b3261e; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
main { max-width:1180px; margin:0 auto; padding:28px 24px 60px; }
h1 { font-size:24px; margin:0 0 4px; } h2 { font-size:18px; margin:34px 0 12px; }
.meta { color:var(--muted); font-size:13px; margin:0; }
.meta code { background:#eceff3; padding:1px 5px; border-radius:4px; }
.groups { display:grid; grid-template-columns:repeat(auto-fit,minmax(200px,1fr)); gap:14px; margin-top:22px; }
.group { background:#fff; border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.group h3 { margin:0 0 8px; font-size:12px; letter-spacing:.06em; text-transform:uppercase; color:var(--muted); }
.metric { padding:4px 0 6px; }
.metric .name { display:block; color:var(--muted); font-size:12.5px; }
.metric .row { display:flex; align-items:center; gap:10px; }
.metric .value { font-size:20px; font-weight:600; font-variant-numeric:tabular-nums; min-width:58px; }
.meter { flex:1; height:6px; background:#edf0f4; border-radius:3px; }
.meter span { display:block; height:6px; border-radius:3px; background:#4C78A8; }
.meter.low span { background:#B3261E; }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px; }
.charts { display:grid; grid-template-columns:3fr 2fr; gap:14px; }
@media (max-width:900px) { .charts { grid-template-columns:1fr; } }
svg text { font-family:inherit; fill:var(--ink); }
.legend { display:flex; flex-wrap:wrap; gap:14px; font-size:13px; color:var(--muted); margin-bottom:6px; }
.legend i { display:inline-block; width:11px; height:11px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); border-radius:10px; overflow:hidden; font-size:14px; }
th, td { text-align:left; vertical-align:top; padding:9px 10px; border-top:1px solid var(--line); }
th { background:#fafbfc; font-size:12px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); border-top:0; }
td.q { width:26%; } td.gold { width:14%; } td.ans { width:24%; }
.tag { display:inline-block; font-size:11px; padding:1px 7px; border-radius:9px; margin:0 4px 3px 0; background:#fdecea; color:var(--bad); white-space:nowrap; }
.tag.info { background:#eef2f7; color:var(--muted); }
.small { color:var(--muted); font-size:12px; }
.abst { color:var(--muted); font-style:italic; }
details { margin:0 0 6px; } summary { cursor:pointer; font-size:13px; }
.passage { white-space:pre-wrap; font-size:13px; background:#fafbfc; border-left:3px solid var(--line); padding:6px 8px; margin:4px 0 0; }
.ok { color:var(--good); } .no { color:var(--bad); }
.empty { color:var(--muted); padding:14px; }
.legend { margin:8px 0 16px; font-size:13px; } .legend dl { display:grid; grid-template-columns:max-content 1fr; gap:2px 12px; }
.legend dt { font-family:ui-monospace, monospace; } .legend dd { margin:0; color:var(--muted); }
"""


def _fmt(value, key: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if key.startswith("latency"):
        return f"{value:,.0f} ms"
    return f"{value:.3f}"


# what each number means, in words: shown on hover and in the legend under the headline
METRIC_HELP = {
    "evidence_hit@1": "Answerable questions whose first retrieved passage holds the gold evidence.",
    "evidence_hit@5": "Answerable questions with the gold evidence among the first five passages.",
    "mrr": "Mean reciprocal rank of the first passage holding gold evidence: 1 when always first, 0.5 when second.",
    "answer_contained": "Answerable questions whose answer text contains a gold answer (case and punctuation ignored).",
    "answer_f1": "Word overlap (F1) between the answer text and the closest gold answer.",
    "exact_match": "Answers equal to a gold answer once case and punctuation are ignored.",
    "short_answer_f1": "Word overlap (F1) of the short answer (the answer text where there is none) with the closest gold answer.",
    "short_answer_em": "Short answers (or answer texts) equal to a gold answer once case and punctuation are ignored.",
    "citation_precision": "Of all passages the answers cite, the share that holds gold evidence.",
    "citation_recall": "Answerable questions whose answer cites at least one passage holding gold evidence.",
    "abstention_accuracy": "All questions where the choice to answer or to say the articles do not answer was right.",
    "false_abstention_rate": "Answerable questions the bot refused to answer; lower is better.",
    "latency_ms_p50": "Median time to answer one question, in milliseconds.",
    "latency_ms_p95": "95th percentile of the time to answer one question: 1 in 20 questions takes longer.",
}


def _legend() -> str:
    items = "".join(f"<dt>{escape(key)}</dt><dd>{escape(text)}</dd>" for key, text in METRIC_HELP.items())
    return f'<details class="legend"><summary>What the numbers mean</summary><dl>{items}</dl></details>'


def _headline(metrics: dict) -> str:
    parts = []
    for title, keys in GROUPS:
        rows = []
        for key in keys:
            value = metrics.get(key)
            meter = ""
            if value is not None and not key.startswith("latency"):
                low = " low" if key in LOWER_IS_BETTER else ""
                meter = f'<span class="meter{low}"><span style="width:{100 * max(0.0, min(1.0, value)):.1f}%"></span></span>'
            rows.append(
                f'<div class="metric" title="{escape(METRIC_HELP.get(key, ""), quote=True)}"><span class="name">{escape(key)}</span>'
                f'<span class="row"><span class="value">{_fmt(value, key)}</span>{meter}</span></div>'
            )
        parts.append(f'<section class="group"><h3>{escape(title)}</h3>{"".join(rows)}</section>')
    return f'<div class="groups">{"".join(parts)}</div>' + _legend()


def _short_answers(by_kind: dict) -> str:
    """Short-answer F1 and exact match per answer type the questions asked for."""
    if not by_kind:
        return ""
    rows = "".join(
        f"<tr><td>{escape(kind)}</td><td>{m['n']:,}</td><td>{m['short_answer_f1']:.3f}</td><td>{m['short_answer_em']:.3f}</td></tr>"
        for kind, m in by_kind.items()
    )
    return (
        '<h2>Short answers by answer type</h2><table id="short-answers"><thead><tr><th>answer type</th><th>n</th>'
        f"<th>short-answer F1</th><th>short-answer EM</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def type_chart(by_type: dict) -> str:
    """Grouped bars, one group per question type; a metric a type cannot have (no answerable
    questions) is left out rather than drawn as zero."""
    types = list(by_type)
    width, height, left, bottom, top = 700, 300, 44, 58, 22
    plot_w, plot_h = width - left - 10, height - bottom - top
    group_w = plot_w / max(1, len(types))
    bar_w = min(26.0, group_w * 0.8 / len(CHART_METRICS))
    out = [
        f'<svg id="type-chart" role="img" aria-label="Metrics by question type" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e6ec"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{tick:.2f}</text>')
    for i, name in enumerate(types):
        m = by_type[name]
        x0 = left + i * group_w + (group_w - bar_w * len(CHART_METRICS)) / 2
        for j, (key, label, colour) in enumerate(CHART_METRICS):
            value = m.get(key)
            if value is None:
                continue
            h = plot_h * value
            x = x0 + j * bar_w
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{max(h, 0.5):.1f}" '
                f'fill="{colour}"><title>{escape(name)} · {escape(label)}: {value:.3f}</title></rect>'
            )
            if bar_w >= 18:
                out.append(
                    f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{top + plot_h - h - 4:.1f}" font-size="9.5" '
                    f'text-anchor="middle" fill="#5b6473">{value:.2f}</text>'
                )
        cx = left + (i + 0.5) * group_w
        short = name if len(name) <= 18 else name[:17] + "…"
        out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 18}" font-size="12" text-anchor="middle">{escape(short)}</text>')
        out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 34}" font-size="11" text-anchor="middle" fill="#5b6473">n={m["n"]}</text>')
    out.append(f'<line x1="{left}" x2="{width - 10}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa3af"/>')
    out.append("</svg>")
    legend = "".join(f'<span><i style="background:{c}"></i>{escape(label)}</span>' for _, label, c in CHART_METRICS)
    return f'<div class="legend">{legend}</div>{"".join(out)}'


def _nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `raw`: round bin edges."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def latency_histogram(latencies: Sequence[float], p50: float | None, p95: float | None, bins: int = 20) -> str:
    """How long each question took; the p50 and p95 lines are the headline figures."""
    width, height, left, bottom, top, right = 460, 300, 40, 46, 30, 26
    plot_w, plot_h = width - left - right, height - bottom - top
    out = [
        f'<svg id="latency-histogram" role="img" aria-label="Latency histogram" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
    ]
    if latencies:
        step = _nice_step(max(latencies) / bins)
        bins = max(1, math.ceil(max(latencies) / step + 1e-9))
        hi = bins * step
        counts = [0] * bins
        for v in latencies:
            counts[min(bins - 1, int(v / step))] += 1
        count_step = max(1, math.ceil(max(counts) / 4))
        peak = count_step * 4
        for k in range(5):
            y = top + plot_h * (1 - k / 4)
            out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e6ec"/>')
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{k * count_step}</text>')
        bw = plot_w / bins
        for b, count in enumerate(counts):
            if not count:
                continue
            h = plot_h * count / peak
            out.append(
                f'<rect class="bar" x="{left + b * bw + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" fill="#4C78A8">'
                f"<title>{b * step:,.0f}–{(b + 1) * step:,.0f} ms: {count}</title></rect>"
            )
        every = max(1, math.ceil(bins / 6))
        for k in range(0, bins + 1, every):
            x = left + k * bw
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">{k * step:,.0f}</text>')
        out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="12" text-anchor="middle" fill="#5b6473">milliseconds per question</text>')
        for label, value, colour in (("p50", p50, "#F58518"), ("p95", p95, "#B3261E")):
            if value is None:
                continue
            x = left + plot_w * min(1.0, value / hi)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{top + plot_h}" stroke="{colour}" stroke-width="2" stroke-dasharray="4 3"/>')
            anchor, dx = ("end", -4) if x > left + plot_w * 0.75 else ("start", 4)
            dy = 10 if label == "p50" else -2  # the two labels never sit on each other
            out.append(
                f'<text x="{x + dx:.1f}" y="{top - 14 + dy}" font-size="11" text-anchor="{anchor}" fill="{colour}">'
                f"{label} {value:,.0f} ms</text>"
            )
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa3af"/>')
    out.append("</svg>")
    return "".join(out)


def _passages(result: QuestionResult) -> str:
    from qa_bot.evaluate.metrics import is_relevant

    if not result.prediction.cited:
        return '<span class="small">none</span>'
    items = []
    for n, p in enumerate(result.prediction.cited, 1):
        mark = '<span class="ok">✓ relevant</span>' if is_relevant(p, result.gold) else '<span class="no">✗ not relevant</span>'
        items.append(
            f"<details><summary>[{n}] {escape(p.doc_id)} · {mark}</summary>"
            f'<div class="passage">{escape(p.text)}</div></details>'
        )
    return "".join(items)


def _failure_row(result: QuestionResult) -> str:
    g, p, s = result.gold, result.prediction, result.score
    history = "".join(
        f'<div class="small">{escape(t["role"])}: {escape(t["content"])}</div>' for t in g.history
    )
    rewrite = (
        f'<div class="small">understood as: {escape(p.standalone_question)}</div>'
        if p.standalone_question and p.standalone_question != g.question
        else ""
    )
    gold = "; ".join(escape(a) for a in g.answers) if g.answerable else '<span class="abst">(not answerable: should abstain)</span>'
    answer = f'<span class="abst">abstained:</span> {escape(p.answer)}' if p.abstained else escape(p.answer)
    tags = "".join(f'<span class="tag">{escape(f)}</span>' for f in s.failures)
    rank = f"evidence at rank {s.first_relevant_rank}" if s.first_relevant_rank else ""
    info = f'<span class="tag info">{escape(g.type)}</span>' + (f'<span class="tag info">{rank}</span>' if rank else "")
    return (
        f"<tr><td class=\"q\">{history}<strong>{escape(g.question)}</strong>{rewrite}"
        f'<div class="small">{escape(g.id)}</div></td>'
        f'<td class="gold">{gold}</td><td class="ans">{answer}<div>{tags}{info}</div></td>'
        f"<td>{_passages(result)}</td></tr>"
    )


def render_report(run: EvalRun) -> str:
    m, meta = run.metrics, run.meta
    failures = [r for r in run.results if r.score.failures]
    latencies = [r.prediction.latency_ms for r in run.results]
    meta_bits = [
        f"questions <code>{escape(str(meta.get('questions', '')))}</code>",
        f"corpus <code>{escape(str(meta.get('corpus', '')))}</code>",
        f"system {escape(str(meta.get('system', 'qa-bot')))}, answerer {escape(str(meta.get('answerer', '')))}",
        f"started {escape(str(meta.get('started', '')))}",
    ]
    if meta.get("ingest"):
        meta_bits.append(f"index: {escape(str(meta['ingest']))}")
    if meta.get("filters"):
        meta_bits.append(f"only articles {escape(str(meta['filters']))}")
    if meta.get("limit"):
        meta_bits.append(f"first {int(meta['limit'])} questions only")
    rows = "".join(_failure_row(r) for r in failures)
    reasons = Counter(f for r in failures for f in r.score.failures)
    reason_line = " ".join(
        f'<span class="tag">{escape(name)}: {count:,}</span>' for name, count in reasons.most_common()
    )
    table = (
        "<table><thead><tr><th>Question</th><th>Gold</th><th>Answer</th><th>Cited passages</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if failures
        else '<div class="card empty">No failures.</div>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>qa-bot eval · {escape(str(meta.get('questions', '')))}</title>
<style>{CSS}</style></head>
<body><main>
<h1>qa-bot evaluation</h1>
<p class="meta">{m['n']:,} questions, {m['n_answerable']:,} answerable · {' · '.join(meta_bits)}</p>
{_headline(m)}
<h2>By question type and latency</h2>
<div class="charts">
<div class="card">{type_chart(m.get('by_type') or {})}</div>
<div class="card">{latency_histogram(latencies, m.get('latency_ms_p50'), m.get('latency_ms_p95'))}</div>
</div>
{_short_answers(m.get('by_answer_type') or {})}
<h2>Failures ({len(failures):,} of {len(run.results):,})</h2>
<p class="meta">A question fails on a wrong or missing answer, a missed or false abstention, no relevant
citation, or gold evidence missing from the top 5 passages. Answer and citation metrics count answerable questions only.</p>
<p>{reason_line}</p>
{table}
</main></body></html>
"""
