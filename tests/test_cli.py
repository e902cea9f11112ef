"""The console script as a user runs it: real process, real index."""

import json
import os
import subprocess
import sys

from conftest import ROOT, SEED_DOC

QA_BOT = [sys.executable, "-m", "qa_bot.cli"]


def run(*args, env=None, **kwargs):
    return subprocess.run([*QA_BOT, *args], capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=300, **kwargs)


def test_ingest_then_ask_json(tmp_path):
    index = tmp_path / "index"
    ingest = run("ingest", "seeds/", "--index", str(index))
    assert ingest.returncode == 0, ingest.stderr
    assert "1 added" in ingest.stdout
    again = run("ingest", "seeds/", env={"QA_BOT_INDEX_DIR": str(index)})
    assert "0 added" in again.stdout and "1 unchanged" in again.stdout

    asked = run("ask", "When are the next talks?", "--json", "--asked-on", "2026-01-25", env={"QA_BOT_INDEX_DIR": str(index)})
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout.strip().splitlines()[-1])
    assert set(payload) >= {"answer", "abstained", "citations"}
    assert "February 1" in payload["answer"] and payload["abstained"] is False
    first = payload["citations"][0]
    assert set(first) >= {"n", "doc_id", "title", "text", "start", "end", "score"}
    assert first["doc_id"] == SEED_DOC
    assert "New meetings are slated for February 1 in Abu Dhabi" in first["text"]
    short = payload["short_answer"]
    assert short["text"] == "February 1" and short["type"] == "date"
    assert first["sentence"][short["start"] : short["end"]] == "February 1"

    plain = run("ask", "When are the next talks?", "--asked-on", "2026-01-25", env={"QA_BOT_INDEX_DIR": str(index)})
    assert plain.stdout.splitlines()[0] == "February 1"  # the short answer first, then the sentence
    assert plain.stdout.splitlines()[1].startswith("New meetings are slated for February 1")


def test_user_errors_exit_2_with_one_line(tmp_path):
    for args in (
        ["ask", "   ", "--index", str(tmp_path / "i")],
        ["ask", "Anything?", "--index", str(tmp_path / "empty")],
        ["ingest", str(tmp_path / "missing"), "--index", str(tmp_path / "i")],
    ):
        result = run(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
