"""Bad input at the console script, as a user meets it: a real process on a copy of the seeded
index. Each refusal is exit 2 with one `error:` line, and the index holds exactly what it held
before. (The loader-level checks of the same files are in test_ingest_loaders.py.)"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, write

QA_BOT = [sys.executable, "-m", "qa_bot.cli"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*QA_BOT, *args], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300)


def snapshot(index: Path) -> tuple:
    """What a user would notice changing: the registered articles and the chunks they hold."""
    from qa_bot import QABot

    bot = QABot(index_dir=index)
    articles = tuple((r.doc_id, r.content_hash, r.n_chunks) for r in bot.articles())
    return articles, bot.count_chunks()


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_a_100_kb_question_is_refused(seed_copy):
    before = snapshot(seed_copy)
    question = ("When are the next talks? " * 4000)[:-1] + "?"  # 100,000 characters, none of them trimmed
    result = run("ask", question, "--index", str(seed_copy))
    assert_refused(result, "100,000 characters", "2,000")
    assert snapshot(seed_copy) == before


def _binary(folder: Path) -> Path:
    path = folder / "photo.txt"  # a text suffix on image bytes: the content decides
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    return path


def _empty(folder: Path) -> Path:
    return write(folder / "empty.md", " \n\n \n")


def _broken_jsonl(folder: Path) -> Path:
    good = [{"id": f"ok{i}", "title": f"Story {i}", "text": f"The harbour of town {i} reopened on Monday."} for i in range(3)]
    lines = [json.dumps(good[0]), json.dumps(good[1]), '{"id": "bad", "text": "cut off', json.dumps(good[2])]
    return write(folder / "corpus.jsonl", "\n".join(lines) + "\n")


def _missing_field_jsonl(folder: Path) -> Path:
    lines = [json.dumps({"id": "ok", "text": "A whole story."}), json.dumps({"id": "no-text", "title": "Nothing"})]
    return write(folder / "corpus.jsonl", "\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "make, words",
    [
        (_binary, ["photo.txt", "not a text file"]),
        (_empty, ["empty.md", "is empty"]),
        # the policy for a corpus file is all or none: its good lines are not ingested either,
        # so fixing the bad line and re-running gives one clean, complete ingest
        (_broken_jsonl, ["corpus.jsonl:3:", "not valid JSON"]),
        (_missing_field_jsonl, ["corpus.jsonl:2:", "'text'"]),
        (lambda folder: folder / "no-such-folder", ["no-such-folder", "does not exist"]),
    ],
    ids=["binary", "empty", "broken-jsonl-line", "jsonl-missing-field", "missing-path"],
)
def test_unusable_input_leaves_the_index_unchanged(seed_copy, tmp_path, make, words):
    before = snapshot(seed_copy)
    path = make(tmp_path)
    assert_refused(run("ingest", str(path), "--index", str(seed_copy)), str(path), *words)
    assert snapshot(seed_copy) == before


def test_a_bad_file_among_good_ones_refuses_the_whole_run(seed_copy, tmp_path):
    """Files named on the command line must all load; the good one is not half-added."""
    before = snapshot(seed_copy)
    good = write(tmp_path / "good.txt", "Harbour reopens\nThe harbour reopened on Monday after the storm.")
    result = run("ingest", str(good), str(_binary(tmp_path)), "--index", str(seed_copy))
    assert_refused(result, "not a text file")
    assert snapshot(seed_copy) == before


def test_non_utf8_text_is_decoded_and_indexed(seed_copy, tmp_path):
    """Through QABot (the CLI's ingest is the same call): a cp1252 file is read, not refused."""
    from qa_bot import QABot

    text = "Café prices\nCafé owners in Zürich raised the price of an espresso to 5 € on Tuesday, citing costs."
    path = tmp_path / "cafe.txt"
    path.write_bytes(text.encode("cp1252"))
    bot = QABot(index_dir=seed_copy)
    assert bot.ingest([path]).added == ["cafe"]
    assert "Zürich" in bot.store.article_text("cafe") and "5 €" in bot.store.article_text("cafe")
    assert "5 €" in bot.ask("How much does an espresso cost in Zürich?").text


def test_gold_question_missing_a_field_names_the_line(seed_copy, tmp_path):
    before = snapshot(seed_copy)
    corpus = write(tmp_path / "corpus.jsonl", json.dumps({"id": "a", "text": "The harbour reopened on Monday."}) + "\n")
    good = {"id": "q1", "question": "When did the harbour reopen?", "answers": ["Monday"]}
    questions = write(tmp_path / "questions.jsonl", json.dumps(good) + "\n" + json.dumps({"id": "q2", "answers": ["x"]}) + "\n")
    result = run("eval", "--corpus", str(corpus), "--questions", str(questions), "--index", str(seed_copy))
    assert_refused(result, f"{questions}:2:", "'question'")
    assert snapshot(seed_copy) == before  # the questions are read before the corpus is indexed


def _files(index: Path) -> dict[str, str]:
    return {
        str(p.relative_to(index)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(index.rglob("*"))
    }


@pytest.mark.parametrize("damage", ["garbage", "truncated", "directory"])
def test_corrupted_index_is_one_sentence_and_left_as_it_was(seed_copy, damage):
    db = seed_copy / "chroma.sqlite3"
    if damage == "garbage":
        db.write_bytes(b"this is not a database\n" * 2000)
    elif damage == "truncated":
        with db.open("r+b") as f:
            f.truncate(db.stat().st_size // 3)
    else:
        db.unlink()
        db.mkdir()
    files = _files(seed_copy)
    for args in (["ask", "When are the next talks?"], ["ingest", "seeds/"]):
        result = run(*args, "--index", str(seed_copy))
        assert_refused(result, str(seed_copy), "cannot be opened", "move it aside")
        assert _files(seed_copy) == files  # nothing deleted, rebuilt or overwritten


def test_output_into_a_closed_pipe_ends_quietly(seed_copy):
    """`qa-bot … | head -0`: the reader has gone before anything is written. Every command ends
    through main()'s flush; an unchanged ingest is the cheapest one that prints."""
    proc = subprocess.Popen(
        [*QA_BOT, "ingest", "seeds/", "--index", str(seed_copy)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 141, err.decode()
    assert b"Traceback" not in err and b"BrokenPipeError" not in err and b"Exception ignored" not in err, err.decode()


def test_unreachable_chroma_url_from_the_environment(seed_copy):
    """$QA_BOT_CHROMA_URL (the --chroma-url case is test_server_mode.py) pointing at a closed port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens: bound, never listening
        before = _files(seed_copy)
        for args in (["ask", "When are the next talks?"], ["ingest", "seeds/"]):
            result = subprocess.run(
                [*QA_BOT, *args], capture_output=True, text=True, cwd=ROOT, timeout=300,
                env={**os.environ, "QA_BOT_CHROMA_URL": url, "QA_BOT_INDEX_DIR": str(seed_copy)},
            )
            assert_refused(result, url, "Cannot reach")
    assert _files(seed_copy) == before  # the local index is not touched instead


def test_a_binary_file_found_in_a_folder_is_skipped_and_the_rest_indexed(seed_copy, tmp_path):
    """Only files named on purpose must load; one met while walking a folder is reported and skipped."""
    from qa_bot import QABot

    folder = tmp_path / "inbox"
    folder.mkdir()
    write(folder / "harbour.txt", "Harbour reopens\nThe harbour reopened on Monday after the storm.")
    _binary(folder)
    report = QABot(index_dir=seed_copy).ingest([folder])
    assert report.added == ["harbour"]
    assert len(report.skipped) == 1 and "photo.txt" in report.skipped[0] and "not a text file" in report.skipped[0]
