"""The report page from hand-made results: every text escaped, charts present, nothing to fetch."""

import re

from qa_bot.evaluate.gold import GoldQuestion
from qa_bot.evaluate.metrics import Passage, Prediction, score_question, summarize
from qa_bot.evaluate.report import render_report
from qa_bot.evaluate.runner import EvalRun, QuestionResult

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _run() -> EvalRun:
    gold = GoldQuestion("q<1>", f"What is {EVIL}?", (f"gold {EVIL}",), True, ("d1",), (), "type <b>bold</b>")
    passage = Passage("d1", f"An article quoting {EVIL} in full.", "d1#0")
    pred = Prediction("q<1>", f"It is the gold {EVIL}", False, (passage,), (passage,), 12.0)
    other = GoldQuestion("q2", "Unanswerable?", (), False, type="unanswerable")
    pred2 = Prediction("q2", "Something made up.", False, (), (), 30.0)
    results = [QuestionResult(g, p, score_question(g, p)) for g, p in ((gold, pred), (other, pred2))]
    return EvalRun(summarize([r.score for r in results]), results, {"questions": f"q{EVIL}.jsonl", "corpus": "c.jsonl"})


def test_all_text_is_escaped_and_nothing_is_fetched():
    html = render_report(_run())
    assert "<script" not in html.lower() and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no CDN, opens offline
    assert 'id="type-chart"' in html and 'id="latency-histogram"' in html


def test_failures_are_listed_with_their_reasons():
    html = render_report(_run())
    assert "Failures (1 of 2)" in html  # the first question is right (contained, relevant citation)
    assert "missed abstention" in html


def test_every_headline_metric_is_explained():
    from qa_bot.evaluate.report import GROUPS, METRIC_HELP

    html = render_report(_run())
    assert "What the numbers mean" in html
    for _, keys in GROUPS:
        for key in keys:
            assert METRIC_HELP.get(key), key  # a metric shown without words is a defect
            assert f'title="{METRIC_HELP[key]}"' in html or key not in html
