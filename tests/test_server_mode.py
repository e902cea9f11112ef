"""qa-bot on a real `chroma run` server over loopback: QABot, the CLI, eval, and two processes
sharing one collection (the lexical side included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, SEED_ASKED_ON, SEED_DOC, SEEDS, SHARED_EVAL, write
from web_server import free_port, stop

pytestmark = pytest.mark.server

CHROMA = Path(sys.executable).parent / "chroma"
QA_BOT = [sys.executable, "-m", "qa_bot.cli"]

NEW_ARTICLE = """Harbour of Vellmar reopens after dredging

The harbour of Vellmar reopened to cargo ships on 14 March 2026 after eleven months of dredging.
The port authority said the channel is now fourteen metres deep. Harbour master Ilse Brankovic
cut the ribbon at the northern quay.
"""
NEW_QUESTION = "Who is the harbour master of Vellmar?"


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A real Chroma server on a free loopback port, with its data in a temporary folder."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("wb")
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not _heartbeat(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not come up: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        stop(server, timeout=20)
        log.close()


@pytest.fixture(scope="module")
def server_bot(chroma_url, tmp_path_factory):
    """A bot over the server with the seed article in collection `seed`; its local folder stays empty."""
    from qa_bot import QABot

    local = tmp_path_factory.mktemp("not-used-in-server-mode")
    bot = QABot(index_dir=local / "index", chroma_url=chroma_url, collection="seed")
    bot.ingest([SEEDS])
    return bot


def _env(chroma_url: str, collection: str) -> dict:
    return {**os.environ, "QA_BOT_CHROMA_URL": chroma_url, "QA_BOT_COLLECTION": collection}


def _cli(*args, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*QA_BOT, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, **kwargs)


def test_qabot_answers_from_the_server(server_bot, chroma_url):
    answer = server_bot.ask("Who led the Russian delegation?", asked_on=SEED_ASKED_ON)
    assert not answer.abstained
    assert "Kostyukov" in answer.text
    assert answer.citations and answer.citations[0].doc_id == SEED_DOC
    # nothing was written locally: the chunks (and what BM25 is built from) live on the server
    assert not (server_bot.settings.index_dir / "chroma.sqlite3").exists()
    assert server_bot.store.location == chroma_url
    lexical = server_bot.retriever.lexical.current()
    assert len(lexical) == server_bot.count_chunks() > 0
    # the lexical (FTS5) file, built from the server's collection and kept up from its change log,
    # lives in the local cache folder
    snapshot = server_bot.store.lexical_cache_path()
    assert snapshot.exists() and server_bot.settings.cache_dir in snapshot.parents


def test_cli_ingest_and_ask_with_env_url(server_bot, chroma_url, tmp_path):
    env = {**_env(chroma_url, "seed"), "QA_BOT_INDEX_DIR": str(tmp_path / "index")}
    again = _cli("ingest", "seeds/", env=env)
    assert again.returncode == 0, again.stderr
    assert "0 added" in again.stdout and "1 unchanged" in again.stdout  # idempotent on the server too

    asked = _cli("ask", "Who led the Russian delegation?", "--json", "--asked-on", SEED_ASKED_ON, env=env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "Kostyukov" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == SEED_DOC
    assert not (tmp_path / "index").exists()


def test_eval_against_the_server(chroma_url, tmp_path):
    corpus, questions = SHARED_EVAL / "seed" / "corpus.jsonl", SHARED_EVAL / "seed" / "questions.jsonl"
    if not corpus.exists():
        pytest.skip("../shared/eval/seed is not present")
    run = _cli(
        "eval", "--corpus", str(corpus), "--questions", str(questions), "--chroma-url", chroma_url,
        "--limit", "6", "--json", env=_env(chroma_url, "evalseed"),
    )
    assert run.returncode == 0, run.stderr
    metrics = json.loads(run.stdout.strip().splitlines()[-1])
    assert metrics, run.stdout
    found = [v for k, v in _flatten(metrics) if "evidence_hit@5" in k]
    assert found and max(found) >= 0.5, metrics


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}{k}.")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix.rstrip("."), float(value)


ASKER = """
import json, sys
from qa_bot import QABot
bot = QABot(index_dir=sys.argv[2], chroma_url=sys.argv[1], collection="shared")
for line in sys.stdin:
    question = line.strip()
    answer = bot.ask(question, asked_on="2026-04-01")
    lexical = [s.chunk.doc_id for s in bot.retriever.lexical.current().search(question, 5)]
    print(json.dumps({"text": answer.text, "abstained": answer.abstained,
                      "cited": [c.doc_id for c in answer.citations], "lexical": lexical,
                      "chunks": bot.count_chunks(), "articles": bot.store.count_articles()}), flush=True)
"""


def test_two_processes_share_one_server(chroma_url, tmp_path):
    """Process A answers once; process B ingests a new article; A's next answer finds it, and A's
    lexical index (caught up from the server's change log, not from any file of B's) and article
    count (kept until any process writes) have it too."""
    from qa_bot import QABot

    QABot(index_dir=tmp_path / "a0", chroma_url=chroma_url, collection="shared").ingest([SEEDS])
    script = write(tmp_path / "asker.py", ASKER)
    asker = subprocess.Popen(
        [sys.executable, str(script), chroma_url, str(tmp_path / "a")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        asker.stdin.write(NEW_QUESTION + "\n")
        asker.stdin.flush()
        before = json.loads(asker.stdout.readline() or "{}")
        assert before, asker.stderr.read() if asker.poll() is not None else "no answer from process A"
        assert "Brankovic" not in before["text"]
        assert all(doc != "vellmar" for doc in before["cited"] + before["lexical"])

        article = write(tmp_path / "news" / "vellmar.txt", NEW_ARTICLE)
        ingest = _cli("ingest", str(article), "--index", str(tmp_path / "b"), env=_env(chroma_url, "shared"))
        assert ingest.returncode == 0, ingest.stderr
        assert "1 added" in ingest.stdout

        asker.stdin.write(NEW_QUESTION + "\n")
        asker.stdin.flush()
        after = json.loads(asker.stdout.readline() or "{}")
        assert after, "no second answer from process A"
        assert after["chunks"] > before["chunks"]
        assert after["articles"] == before["articles"] + 1  # A's count, kept between writes, follows B's
        assert "Brankovic" in after["text"]
        assert after["cited"][0] == "vellmar"
        assert after["lexical"][0] == "vellmar"
    finally:
        asker.stdin.close()
        asker.wait(timeout=60)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_unreachable_server_is_one_sentence_and_exit_2(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    run = _cli("ask", "Who led the Russian delegation?", "--chroma-url", url, "--index", str(tmp_path / "i"), env=dict(os.environ))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "Traceback" not in run.stderr
    assert lines[0].rstrip(".").count(". ") == 0  # one sentence
