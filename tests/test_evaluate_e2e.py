"""`qa-bot eval` as a user runs it: the real QABot, real Chroma, the real embedding model, and the
report opened in headless Chromium."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SHARED_EVAL, write
from qa_bot.evaluate.metrics import METRIC_KEYS

QA_BOT = [sys.executable, "-m", "qa_bot.cli"]
ARTIFACTS = ROOT / "test-artifacts"


def run(*args):
    return subprocess.run([*QA_BOT, *args], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=900)


@pytest.fixture(scope="module")
def seed_eval(tmp_path_factory):
    """One real evaluation of the seed set with --json and --out, shared by the tests below."""
    out = tmp_path_factory.mktemp("seed-eval")
    result = run(
        "eval", "--corpus", str(SHARED_EVAL / "seed" / "corpus.jsonl"),
        "--questions", str(SHARED_EVAL / "seed" / "questions.jsonl"), "--json", "--out", str(out),
    )
    assert result.returncode == 0, result.stderr
    return result, out


def test_seed_eval_prints_one_metrics_object_last(seed_eval):
    result, out = seed_eval
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(metrics) == set(METRIC_KEYS) | {"by_type", "by_answer_type", "split", "tuning"}
    assert metrics["split"] == "all" and "constraint_max_terms" in metrics["tuning"]
    assert metrics["n"] == 30 and metrics["n_answerable"] == 28
    for key in METRIC_KEYS:
        if not key.startswith(("latency", "n")):
            assert 0.0 <= metrics[key] <= 1.0, key
    assert 0 < metrics["latency_ms_p50"] <= metrics["latency_ms_p95"]
    assert metrics["answer_contained"] > 0.5 and metrics["evidence_hit@5"] > 0.5  # loose sanity only
    assert {"factoid", "temporal", "follow-up", "unanswerable"} <= set(metrics["by_type"])
    # the short answer, not the whole sentence, is scored: the sentence alone scores 0.20 here
    assert metrics["short_answer_f1"] >= 0.6 and metrics["short_answer_f1"] > metrics["answer_f1"] + 0.3
    assert {"date", "person", "quantity"} <= set(metrics["by_answer_type"])
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_results_jsonl_has_every_question(seed_eval):
    _, out = seed_eval
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 30
    follow_up = next(r for r in rows if r["id"] == "s28")
    assert follow_up["history"] and follow_up["standalone_question"] != follow_up["question"]
    for row in rows:
        assert {"question", "gold_answers", "answer", "short_answer", "answer_type", "abstained", "citations",
                "retrieved", "metrics", "latency_ms"} <= set(row)
        assert len(row["retrieved"]) <= 5 and all(r["chunk_id"] for r in row["retrieved"])


def test_compare_shows_deltas(seed_eval, tmp_path):
    _, out = seed_eval
    metrics = json.loads((out / "metrics.json").read_text())
    worse = write(tmp_path / "b.json", json.dumps({**metrics, "answer_f1": metrics["answer_f1"] - 0.1}))
    result = run("eval", "--compare", str(out), str(worse))
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith("answer_f1"))
    assert "-0.100 worse" in line
    as_json = json.loads(run("eval", "--compare", str(out / "metrics.json"), str(worse), "--json").stdout.splitlines()[-1])
    assert as_json["metrics"]["answer_f1"]["deltas"] == [pytest.approx(-0.1)]
    assert as_json["metrics"]["n"]["deltas"] == [0]


def test_tiny_hand_made_set_through_the_real_pipeline(tmp_path):
    """Four short articles, five questions (one unanswerable) through the real evaluator."""
    from qa_bot.evaluate.runner import evaluate

    articles = [
        ("harbour", "Harbour reopens", "The Westport harbour reopened on 3 March after the storm. Repairs cost 4 million euros."),
        ("zoo", "Zoo welcomes panda cub", "A panda cub named Lumi was born at the Brightwater zoo. Keepers said the cub weighs 140 grams."),
        ("rail", "Rail strike ends", "The rail strike ended on Tuesday after unions accepted a 6 percent pay rise."),
        ("library", "Library turns 100", "The city library celebrated its centenary with free concerts in the reading room."),
    ]
    sources = {"harbour": "City Desk", "rail": "City Desk", "zoo": "Weekend", "library": "Weekend"}
    corpus = write(tmp_path / "corpus.jsonl", "".join(
        json.dumps({"id": i, "title": t, "text": x, "source": sources[i], "url": "", "published": "2026-03-05"}) + "\n"
        for i, t, x in articles))
    questions = [
        {"id": "t1", "question": "What was the panda cub at Brightwater zoo named?", "answers": ["Lumi"], "answerable": True,
         "evidence_ids": ["zoo"], "evidence_text": ["named Lumi"], "type": "factoid"},
        {"id": "t2", "question": "What pay rise did the rail unions accept?", "answers": ["6 percent"], "answerable": True,
         "evidence_ids": ["rail"], "evidence_text": [], "type": "factoid"},
        {"id": "t3", "question": "How much did the Westport harbour repairs cost?", "answers": ["4 million euros"], "answerable": True,
         "evidence_ids": ["harbour"], "evidence_text": ["Repairs cost 4 million euros"], "type": "factoid"},
        {"id": "t4", "question": "How much does it weigh?", "answers": ["140 grams"], "answerable": True, "evidence_ids": ["zoo"],
         "evidence_text": ["weighs 140 grams"], "type": "follow-up", "asked_on": "2026-03-06",
         "history": [{"role": "user", "content": "Was a panda cub born at the zoo?"}, {"role": "assistant", "content": "Yes, Lumi."}]},
        {"id": "t5", "question": "Who won the chess olympiad in 1962?", "answers": [""], "answerable": False,
         "evidence_ids": [], "evidence_text": [], "type": "unanswerable"},
    ]
    qfile = write(tmp_path / "questions.jsonl", "".join(json.dumps(q) + "\n" for q in questions))
    index = tmp_path / "index"
    run_ = evaluate(corpus, qfile, index_dir=index, progress=False)
    m = run_.metrics
    assert (m["n"], m["n_answerable"]) == (5, 4)
    assert set(m["by_type"]) == {"factoid", "follow-up", "unanswerable"}
    assert [r.gold.id for r in run_.results] == ["t1", "t2", "t3", "t4", "t5"]
    for r in run_.results:  # retrieval ids come from the corpus ids, so doc-id relevance can work
        assert {p.doc_id for p in r.prediction.retrieved} <= {a[0] for a in articles}
    assert m["evidence_hit@5"] > 0.5  # four distinct topics: loose sanity, not a tuned number
    again = evaluate(corpus, qfile, index_dir=index, limit=2, progress=False)  # unchanged corpus: reused
    assert again.meta["ingest"].startswith("0 added, 0 updated, 4 unchanged") and again.metrics["n"] == 2

    # --source as a user passes it: every question is asked of the Weekend articles only, so the
    # City Desk questions (t2 rail, t3 harbour) cannot find their evidence and t1 (zoo) still can
    result = run("eval", "--corpus", str(corpus), "--questions", str(qfile), "--index", str(index),
                 "--limit", "3", "--source", "Weekend", "--out", str(tmp_path / "weekend"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["evidence_hit@5"] == pytest.approx(1 / 3, abs=1e-4)  # rounded to 4 places
    rows = [json.loads(line) for line in (tmp_path / "weekend" / "results.jsonl").read_text().splitlines()]
    assert {p["doc_id"] for row in rows for p in row["retrieved"]} <= {"zoo", "library"}
    assert "only articles from Weekend" in (tmp_path / "weekend" / "report.html").read_text()


def test_bad_gold_line_exits_2_naming_the_line(tmp_path):
    corpus = write(tmp_path / "corpus.jsonl", json.dumps({"id": "a", "text": "Some text."}) + "\n")
    questions = write(tmp_path / "questions.jsonl", json.dumps({"id": "q", "question": "Q?", "answers": ["x"]}) + "\n{oops\n")
    result = run("eval", "--corpus", str(corpus), "--questions", str(questions))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and f"{questions}:2:" in result.stderr and "Traceback" not in result.stderr
    missing = run("eval", "--questions", str(questions))
    assert missing.returncode == 2 and "--corpus" in missing.stderr


@pytest.mark.browser
def test_report_renders_in_headless_chromium(seed_eval):
    from playwright.sync_api import sync_playwright

    _, out = seed_eval
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "eval-report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto((out / "report.html").as_uri())
            chart = page.locator("svg#type-chart")
            assert chart.is_visible()
            box = chart.bounding_box()
            assert box["width"] > 300 and box["height"] > 100
            assert page.locator("svg#type-chart rect.bar").count() >= 4
            assert page.locator("svg#latency-histogram rect.bar").count() >= 1
            assert page.locator("svg#latency-histogram").is_visible()
            assert "answer_contained" in page.inner_text("body")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith("file:")] == []  # self-contained: nothing fetched
    assert shot.stat().st_size > 10_000


def test_on_a_server_the_gold_corpus_keeps_off_the_users_collection(monkeypatch):
    from qa_bot.evaluate.runner import EVAL_COLLECTION, _keep_off_the_main_collection

    url = {"chroma_url": "http://127.0.0.1:8000"}
    assert _keep_off_the_main_collection(None, url)["collection"] == EVAL_COLLECTION
    assert "collection" not in _keep_off_the_main_collection(None, {"chroma_url": None})  # a temporary folder
    assert "collection" not in _keep_off_the_main_collection("idx", url)  # a folder the user chose
    monkeypatch.setenv("QA_BOT_COLLECTION", "mine")
    assert "collection" not in _keep_off_the_main_collection(None, url)  # a collection the user chose


def test_split_asks_only_its_half(tmp_path):
    """`--split check` asks the check half only; with the tune half it makes up the whole set."""
    from qa_bot.evaluate.gold import read_questions
    from qa_bot.evaluate.split import select_split

    questions = SHARED_EVAL / "seed" / "questions.jsonl"
    result = run(
        "eval", "--corpus", str(SHARED_EVAL / "seed" / "corpus.jsonl"), "--questions", str(questions),
        "--split", "check", "--json",
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    gold = read_questions(questions)
    check, tune = select_split(gold, "check"), select_split(gold, "tune")
    assert metrics["split"] == "check" and metrics["n"] == len(check)
    assert 0 < len(check) < len(gold) and len(check) + len(tune) == len(gold)
