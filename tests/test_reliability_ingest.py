"""Hostile and broken input at ingest (issue 13): text without sentence ends, big articles, odd
encodings, duplicate ids, unreadable files, a dying Chroma, a corrupt cache, a full disk. Each
case is a sentence or a result, never a traceback, and never loses what was indexed."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SEED_ASKED_ON, write

QA_BOT = [sys.executable, "-m", "qa_bot.cli"]
WORDS = "the harbour council vote budget storm river city people market school road bridge report".split()


def run(*args: str, env: dict | None = None, timeout: int = 600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*QA_BOT, *args], capture_output=True, text=True, cwd=ROOT, env=env or dict(os.environ), timeout=timeout, **kwargs
    )


def assert_one_sentence(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr[-3000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def unpunctuated(n_words: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


# ---- 1. a hard ceiling on passages, whatever the punctuation ------------------------------------


def test_text_without_sentence_ends_is_cut_under_the_ceiling_with_exact_offsets():
    from qa_bot.ingest.chunking import chunk_article
    from qa_bot.ingest.loaders import make_article
    from qa_bot.settings import Settings

    limits = Settings()
    # a run of 5,000 words without a full stop, one 9,000-character "word", and ordinary sentences
    text = (
        "Harbour news\n" + unpunctuated(5000) + " " + "x" * 9000 + " tail words here\n"
        "The council met on Monday. It voted for the budget."
    )
    article = make_article("big", text)
    chunks = chunk_article(article, limits.chunk_words)
    for chunk in chunks:
        assert article.text[chunk.start : chunk.end] == chunk.text  # citations point at article text
        assert len(chunk.text.split()) <= limits.max_chunk_words
        assert len(chunk.text) <= limits.max_chunk_chars
    # nothing is lost: every word of the article is in exactly one chunk, in order
    covered = "".join(c.text.replace(" ", "").replace("\n", "") for c in chunks)
    assert covered == article.text.replace(" ", "").replace("\n", "")
    # ordinary sentences are still packed whole
    assert chunks[-1].text.endswith("It voted for the budget.")


def test_the_ceiling_is_a_setting(monkeypatch, tmp_path):
    from qa_bot import QABot
    from qa_bot.ingest.chunking import chunk_article
    from qa_bot.ingest.loaders import make_article

    article = make_article("a", unpunctuated(400))
    assert max(len(c.text.split()) for c in chunk_article(article, 90, max_words=40, max_chars=10_000)) <= 40
    monkeypatch.setenv("QA_BOT_MAX_CHUNK_WORDS", "0")
    from qa_bot.errors import InputError

    with pytest.raises(InputError, match="max_chunk_words"):
        QABot(index_dir=tmp_path / "index")


def test_an_unpunctuated_upload_cannot_flood_an_answer(seed_copy, tmp_path):
    """The 4.9 MB case of the issue, at 75 kB: before, the file was one passage and an answer
    quoted all of it. Asked through the CLI as a user would, with --json."""
    from qa_bot.settings import Settings

    limits = Settings()
    flood = write(tmp_path / "flood.txt", "next talks February " + unpunctuated(12_000) + " next talks")
    assert run("ingest", str(flood), "--index", str(seed_copy)).returncode == 0
    result = run("ask", "When are the next talks?", "--json", "--asked-on", SEED_ASKED_ON, "--index", str(seed_copy))
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout)
    assert len(result.stdout) < 40_000, len(result.stdout)
    for citation in answer["citations"]:
        assert len(citation["text"]) <= limits.max_chunk_chars
        assert len(citation["sentence"]) <= limits.max_chunk_chars
    assert "February 1" in answer["answer"]


# ---- 2. a big article is embedded and written in parts, with progress ----------------------------


def test_a_big_article_is_written_in_parts_with_progress(tmp_path, monkeypatch):
    from qa_bot import QABot
    from qa_bot.settings import Settings

    # as for an article over the registry's limit (1,000,000 characters): its chunks hold the text
    monkeypatch.setattr(Settings.model_fields["registry_text_max_chars"], "default", 10_000)
    bot = QABot(index_dir=tmp_path / "index", ingest_batch_chunks=40)
    big = write(tmp_path / "in" / "big.txt", unpunctuated(90 * 200))  # 200 passages, 5 parts
    write(tmp_path / "in" / "small.txt", "Harbour reopens\nThe harbour reopened on Monday after the storm.")
    seen: list[tuple[int, str]] = []
    report = bot.ingest([big.parent], progress=lambda count, what: seen.append((count, what)))
    assert sorted(report.added) == ["big", "small"]
    parts = [what for _, what in seen if what.endswith("chunks of big")]
    assert parts == [f"{n}/200 chunks of big" for n in (40, 80, 120, 160, 200)], seen
    records = {r.doc_id: r for r in bot.articles()}
    chunks = [c for c in bot.store.iter_chunks() if c.doc_id == "big"]
    assert records["big"].n_chunks == len(chunks) == len({c.chunk_id for c in chunks}) == 200
    assert "".join(c.text for c in sorted(chunks, key=lambda c: c.start)).replace(" ", "") == big.read_text().replace(" ", "")
    assert bot.ingest([big.parent]).unchanged == ["big", "small"]  # idempotent across parts
    assert bot.store.article_text("big") == big.read_text()  # rebuilt from the chunks, offsets exact
    assert bot.store.article_text("small").startswith("Harbour reopens\n")  # small: kept whole


# ---- 3. decoding: follow the byte-order mark, refuse what is not text ---------------------------

STORY = "Café owners in Zürich said the talks resume on February 1."


@pytest.mark.parametrize(
    "name, data",
    [
        ("utf16le.txt", STORY.encode("utf-16")),  # Python writes the LE mark first
        ("utf16be.txt", b"\xfe\xff" + STORY.encode("utf-16-be")),
        ("utf8bom.txt", b"\xef\xbb\xbf" + STORY.encode("utf-8")),
    ],
)
def test_text_with_a_byte_order_mark_is_read(tmp_path, name, data):
    from qa_bot.ingest.loaders import load_file

    path = tmp_path / name
    path.write_bytes(data)
    assert load_file(path, "x").text == STORY


@pytest.mark.parametrize(
    "name, encode",
    [
        ("bom.jsonl", lambda line: b"\xef\xbb\xbf" + line.encode("utf-8")),
        ("latin1.jsonl", lambda line: line.encode("latin-1")),
        ("utf16.jsonl", lambda line: line.encode("utf-16")),
    ],
)
def test_jsonl_in_other_encodings_is_read(tmp_path, name, encode):
    from qa_bot.ingest.loaders import load_jsonl

    lines = json.dumps({"id": "a", "text": STORY}, ensure_ascii=False) + "\n" + json.dumps({"id": "b", "text": "Two."}) + "\n"
    path = tmp_path / name
    path.write_bytes(encode(lines))
    assert [(a.doc_id, a.text) for a in load_jsonl(path)] == [("a", STORY), ("b", "Two.")]


def _random_bytes_without_nul(n: int) -> bytes:
    """Noise that cp1252 decodes (none of its five undefined bytes): it used to become an article."""
    rng = random.Random(7)
    return bytes(b for b in rng.randbytes(n) if b not in b"\x00\x81\x8d\x8f\x90\x9d")


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("noise.txt", _random_bytes_without_nul(30_000), "not a text file"),
        ("late-nul.txt", b"The council met on Monday. " * 1000 + b"\x00\x01\x02 more", "binary data"),
        ("blank.txt", "  \n\u200b\u00a0\t\n".encode("utf-8"), "is empty"),
        ("blank.md", b"---\ntitle: Nothing\n---\n\n   \n", "is empty"),
    ],
)
def test_what_is_not_text_is_refused_with_one_sentence(tmp_path, name, data, message):
    from qa_bot.errors import InputError
    from qa_bot.ingest.loaders import load_file

    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        load_file(path, "x")


def test_a_blank_jsonl_text_is_refused_not_registered_empty(seed_copy, tmp_path):
    from test_reliability_cli import snapshot

    before = snapshot(seed_copy)
    corpus = write(tmp_path / "c.jsonl", json.dumps({"id": "ok", "text": "A story."}) + "\n" + json.dumps({"id": "blank", "text": " \n\t "}) + "\n")
    assert_one_sentence(run("ingest", str(corpus), "--index", str(seed_copy)), "c.jsonl:2:", "blank")
    assert snapshot(seed_copy) == before


# ---- 4. a corpus file whose records share an id -------------------------------------------------


def test_jsonl_records_sharing_an_id_are_one_sentence_and_nothing_written(seed_copy, tmp_path):
    from test_reliability_cli import snapshot

    before = snapshot(seed_copy)
    rows = [{"id": "same", "text": f"Story number {i} about the harbour."} for i in range(3)]
    corpus = write(tmp_path / "dups.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert_one_sentence(
        run("ingest", str(corpus), "--index", str(seed_copy)), "dups.jsonl:2:", "'same'", "line 1"
    )
    assert snapshot(seed_copy) == before


# ---- 5. an unreadable file inside a folder --------------------------------------------------------

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture
def shared_dir():
    """A folder user nobody can write: tests run as root, for whom chmod 000 does not stop a read."""
    import shutil
    import tempfile

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run the ingest as another user")
    folder = Path(tempfile.mkdtemp(prefix="qa-unreadable-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_an_unreadable_file_in_a_folder_is_skipped_and_the_rest_indexed(shared_dir):
    inbox = shared_dir / "inbox"
    write(inbox / "harbour.txt", "Harbour reopens\nThe harbour reopened on Monday after the storm.")
    write(inbox / "secret.txt", "Not for you.").chmod(0o000)
    write(inbox / "noise.txt", "x").write_bytes(_random_bytes_without_nul(5000))  # undecodable
    for path in (shared_dir, inbox):
        path.chmod(0o777)
    env = {**os.environ, "QA_BOT_CACHE_DIR": str(shared_dir / "cache"), "HOME": str(shared_dir)}
    index = shared_dir / "index"
    result = subprocess.run(
        [*AS_NOBODY, *QA_BOT, "ingest", str(inbox), "--index", str(index)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 2, result.stderr
    assert any("secret.txt" in line and "cannot be read" in line for line in skipped), skipped
    assert any("noise.txt" in line and "not a text file" in line for line in skipped), skipped
    assert "1 added" in result.stdout
    # the same file named on the command line refuses the run (files named on purpose must load)
    named = subprocess.run(
        [*AS_NOBODY, *QA_BOT, "ingest", str(inbox / "secret.txt"), "--index", str(index)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )
    assert_one_sentence(named, "secret.txt", "cannot be read")


# ---- 6. Chroma dying mid-ingest; a corrupt embedding cache --------------------------------------


def _news_corpus(path: Path, n: int = 150) -> Path:
    """Real 2025 news articles of ordinary length (as the crash test uses): ~1,000 chunks."""
    import gzip

    from conftest import SHARED_EVAL

    source = SHARED_EVAL / "realtimeqa" / "corpus.jsonl.gz"
    if not source.exists():
        pytest.skip("../shared/eval/realtimeqa is not present")
    rows = []
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if 150 <= len(row["text"].split()) <= 700:
                rows.append(row)
            if len(rows) == n:
                break
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.server
def test_chroma_dying_mid_ingest_is_one_sentence(tmp_path):
    import time

    import chromadb
    from test_server_mode import CHROMA, _heartbeat
    from web_server import free_port

    corpus = _news_corpus(tmp_path / "news.jsonl")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "chroma.log").open("wb")
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    ingest = None
    try:
        deadline = time.monotonic() + 60
        while not _heartbeat(url):
            assert server.poll() is None and time.monotonic() < deadline, "chroma run did not come up"
            time.sleep(0.2)
        env = {**os.environ, "QA_BOT_CHROMA_URL": url, "QA_BOT_COLLECTION": "dying"}
        ingest = subprocess.Popen(
            [*QA_BOT, "ingest", str(corpus)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        client = chromadb.HttpClient(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and ingest.poll() is None:  # until the first batch is in
            try:
                if client.get_collection("dying_articles").count() > 0:
                    break
            except Exception:  # the collection does not exist yet
                pass
            time.sleep(0.5)
        assert ingest.poll() is None, "the ingest ended before the server could be stopped"
        server.kill()
        server.wait(timeout=30)
        out, err = ingest.communicate(timeout=600)
        result = subprocess.CompletedProcess(ingest.args, ingest.returncode, out, err)
        assert_one_sentence(result, url, "stopped answering", "run the ingest again")
    finally:
        if ingest and ingest.poll() is None:
            ingest.kill()
            ingest.wait()
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def test_a_corrupt_embedding_cache_is_moved_aside_not_a_traceback(seed_copy, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "embeddings.sqlite").write_bytes(b"this is not a database\n" * 500)
    env = {**os.environ, "QA_BOT_CACHE_DIR": str(cache)}
    story = write(tmp_path / "harbour.txt", "Harbour reopens\nThe harbour of Vellmar reopened on Monday after the storm.")
    result = run("ingest", str(story), "--index", str(seed_copy), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "1 added" in result.stdout
    assert "embedding cache" in result.stderr and "damaged" in result.stderr
    assert [p.name for p in cache.glob("embeddings.sqlite.corrupt-*")], list(cache.iterdir())
    asked = run("ask", "When are the next talks?", "--asked-on", SEED_ASKED_ON, "--index", str(seed_copy), env=env)
    assert asked.returncode == 0 and "February 1" in asked.stdout, asked.stderr[-3000:]


# ---- 7. a full disk ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A real 40 MB file system (tmpfs) holding the index and the embedding cache."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the full-disk case needs one")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_bytes: int) -> Path:
    """Writes a filler file until only about `leave_bytes` are free."""
    import shutil

    filler = disk / f"filler-{len(list(disk.glob('filler-*')))}"
    free = shutil.disk_usage(disk).free - leave_bytes
    with filler.open("wb") as f:
        chunk = b"\0" * 65536
        try:
            while free > 0:
                f.write(chunk[: min(len(chunk), free)])
                free -= len(chunk)
        except OSError:
            pass
    return filler


def test_a_full_disk_is_one_sentence_asking_still_works_and_a_rerun_converges(seed_index, small_disk, tmp_path):
    import shutil

    from qa_bot import QABot

    index = small_disk / "index"
    shutil.copytree(seed_index, index)
    env = {**os.environ, "QA_BOT_CACHE_DIR": str(small_disk / "cache")}
    ask = ["ask", "When are the next talks?", "--asked-on", SEED_ASKED_ON, "--index", str(index)]
    assert run(*ask, env=env).returncode == 0  # the cache (and the ONNX twin, if it fits) made with room
    story = write(tmp_path / "in" / "big.txt", "Harbour news\n" + ". ".join(unpunctuated(15, i).capitalize() for i in range(2500)) + ".")

    # the disk fills up in the middle of the ingest
    filler = _fill(small_disk, leave_bytes=2_000_000)
    result = run("ingest", str(story), "--index", str(index), env=env)
    line = assert_one_sentence(result, "No space left on", str(small_disk), "MB needed")
    assert "(tmpfs)" in line

    # the disk is now full to the last byte: questions are still answered from what was indexed
    more = _fill(small_disk, leave_bytes=0)
    asked = run(*ask, env=env)
    assert asked.returncode == 0 and "February 1" in asked.stdout, asked.stderr[-3000:]
    assert "Traceback" not in asked.stderr
    refused = run("ingest", str(story), "--index", str(index), env=env)
    assert_one_sentence(refused, "No space left on", "MB needed")

    # space freed: the same ingest converges, and the seed article is as it was
    filler.unlink()
    more.unlink()
    again = run("ingest", str(story), "--index", str(index), env=env)
    assert again.returncode == 0 and "1 added" in again.stdout, again.stderr[-3000:]
    bot = QABot(index_dir=index)
    records = {r.doc_id: r for r in bot.articles()}
    assert set(records) == {"000_c9922a98c24bf2ee", "big"}
    chunk_ids = [c.chunk_id for c in bot.store.iter_chunks()]
    assert len(chunk_ids) == len(set(chunk_ids)) == sum(r.n_chunks for r in records.values())
    assert "February 1" in bot.ask("When are the next talks?", asked_on=SEED_ASKED_ON).text
