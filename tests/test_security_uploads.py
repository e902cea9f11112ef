"""Security of adding articles from the page: a client may add only what it uploaded through this
server's own upload route, never name a path on the server; uploads are bounded (loopback only
without a login, same-origin only, a total quota) and what is not added does not stay on disk.
All against the real `qa-bot serve`, except the non-loopback client, which goes through the real
app in-process (a request from another machine cannot be sent here)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from conftest import SEED_ASKED_ON
from web_server import seed_server

from qa_bot.web.uploads import UploadFolder

USER, PASSWORD = "alice", "correct horse battery staple"
SECRET = "The launch code of project Zebra is 4471, kept in the vault under the old mill."
SECRET_QUESTION = "What is the launch code of project Zebra?"


def _upload_fn(client: httpx.Client, url: str) -> int:
    """The page's own event that adds uploaded files (the file component's `upload` event)."""
    config = client.get(f"{url}/config", timeout=30).json()
    kinds = {c["id"]: c.get("type") for c in config["components"]}
    for index, dep in enumerate(config["dependencies"]):
        if any(event == "upload" and kinds.get(target) == "file" for target, event in dep.get("targets", [])):
            return dep.get("id", index)
    raise AssertionError("the page has no upload event")


def _send_upload_event(client: httpx.Client, url: str, files: list[dict]) -> dict:
    """What an attacker sends: the upload event with file data naming any path; returns the final message."""
    session = f"s{time.monotonic_ns()}"
    body = {"data": [files], "fn_index": _upload_fn(client, url), "session_hash": session}
    joined = client.post(f"{url}/gradio_api/queue/join", json=body, timeout=30)
    assert joined.status_code == 200, joined.text
    with client.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=120) as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the upload event never completed")


def _answers_from_secret(client: httpx.Client, url: str, headers: dict | None = None) -> bool:
    body = {"model": "qa-bot", "messages": [{"role": "user", "content": SECRET_QUESTION}], "asked_on": SEED_ASKED_ON}
    reply = client.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=120).json()
    # the answer and its citations, not the whole response: its `created` time may hold "4471"
    said = reply["choices"][0]["message"]["content"] + json.dumps(reply.get("citations", []))
    return "4471" in said or "old mill" in said


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("server-private") / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def open_server(seed_index, tmp_path_factory):
    with seed_server(seed_index, tmp_path_factory.mktemp("sec-open")) as (url, index):
        yield url, index


@pytest.fixture(scope="module")
def login_server(seed_index, tmp_path_factory):
    headers = {"Authorization": f"Bearer {PASSWORD}"}
    with seed_server(
        seed_index, tmp_path_factory.mktemp("sec-auth"), args=["--auth", f"{USER}:{PASSWORD}"], headers=headers
    ) as (url, index):
        yield url, index


def _uploaded_articles(index: Path) -> list[str]:
    return sorted(p.name for p in (index / "uploads").glob("*") if p.is_file())


def _named(path: Path | str) -> dict:
    return {"path": str(path), "orig_name": "secret.txt", "meta": {"_type": "gradio.FileData"}}


@pytest.mark.parametrize(
    "target",
    ["{secret}", "{incoming}/../../../../../../{secret}", "{incoming}/planted.txt"],
    ids=["absolute", "traversal-from-incoming", "planted-in-incoming"],
)
def test_a_client_named_path_is_never_read_or_indexed(open_server, secret_file, target):
    url, index = open_server
    incoming = index.resolve() / "uploads" / ".incoming"
    (incoming / "planted.txt").write_text(SECRET, encoding="utf-8")  # there, but never uploaded
    path = target.format(secret=secret_file, incoming=incoming)
    with httpx.Client() as client:
        message = _send_upload_event(client, url, [_named(path)])
        assert _uploaded_articles(index) == []
        assert not _answers_from_secret(client, url)
    output = message.get("output") or {}
    shown = output.get("error") or (output.get("data") or [""])[-1]
    assert "not added" in shown or "not uploaded" in shown, shown
    assert secret_file.read_text(encoding="utf-8") == SECRET  # untouched


def test_with_a_login_a_logged_in_client_cannot_name_a_path_either(login_server, secret_file):
    url, index = login_server
    headers = {"Authorization": f"Bearer {PASSWORD}"}
    with httpx.Client() as client:
        assert client.post(f"{url}/login", data={"username": USER, "password": PASSWORD}, timeout=30).status_code == 200
        _send_upload_event(client, url, [_named(secret_file)])
        assert _uploaded_articles(index) == []
        assert not _answers_from_secret(client, url, headers)


def test_an_upload_through_the_route_is_added_and_its_temporary_copy_removed(open_server):
    url, index = open_server
    text = "Harbor cranes return to Portmere\n\nThe Portmere harbor ordered 7 new cranes on Monday."
    with httpx.Client() as client:
        sent = client.post(f"{url}/gradio_api/upload", files={"files": ("cranes.txt", text.encode())}, timeout=30)
        assert sent.status_code == 200, sent.text
        [received] = sent.json()
        message = _send_upload_event(client, url, [_named(received)])
    assert "1 added" in message["output"]["data"][-1]
    assert (index / "uploads" / "cranes.txt").read_text(encoding="utf-8") == text
    assert not Path(received).exists()  # the received copy is gone once handled


def test_another_sites_page_cannot_upload(open_server):
    url, index = open_server
    before = sorted(str(p) for p in (index / "uploads").rglob("*"))
    resp = httpx.post(
        f"{url}/gradio_api/upload", files={"files": ("x.txt", b"cross-site")},
        headers={"Origin": "http://evil.example"}, timeout=30,
    )
    assert resp.status_code == 403 and "own page" in resp.text
    assert sorted(str(p) for p in (index / "uploads").rglob("*")) == before


def test_without_a_login_only_this_machine_may_upload(seed_copy):
    """A client from another address goes through the real app in-process (the test client sets
    the peer address); with --auth the same request passes the guard and meets the login."""
    from starlette.testclient import TestClient

    from qa_bot import QABot
    from qa_bot.web.auth import Credentials
    from qa_bot.web.server import create_app

    bot = QABot(index_dir=seed_copy)
    files = {"files": ("x.txt", b"from far away")}
    with TestClient(create_app(bot), client=("203.0.113.9", 50000)) as far:
        resp = far.post("/gradio_api/upload", files=files)
        assert resp.status_code == 403 and "this machine only" in resp.text
    with TestClient(create_app(bot), client=("127.0.0.1", 50000)) as near:
        assert near.post("/gradio_api/upload", files=files).status_code == 200
    with TestClient(create_app(bot, Credentials(USER, PASSWORD)), client=("203.0.113.9", 50000)) as far:
        assert far.post("/gradio_api/upload", files=files).status_code in (401, 403)  # the login, not the guard
        assert "this machine only" not in far.post("/gradio_api/upload", files=files).text


def test_the_upload_quota_is_one_sentence(seed_copy, monkeypatch):
    from starlette.testclient import TestClient

    from qa_bot import QABot
    from qa_bot.web.server import create_app

    monkeypatch.setenv("QA_BOT_UPLOAD_QUOTA_MB", "0.01")  # 10 kB in all
    bot = QABot(index_dir=seed_copy)
    with TestClient(create_app(bot), client=("127.0.0.1", 50000)) as client:
        assert client.post("/gradio_api/upload", files={"files": ("a.txt", b"a" * 4000)}).status_code == 200
        resp = client.post("/gradio_api/upload", files={"files": ("b.txt", b"b" * 8000)})
    assert resp.status_code == 413 and "uploads folder is full" in resp.text


def test_a_file_that_cannot_be_added_is_refused_before_it_is_stored(seed_copy):
    """The type is read from the upload's part headers: a program never reaches the disk, a text
    that merely mentions such a name in its content is taken, and mixed uploads are refused whole."""
    from starlette.testclient import TestClient

    from qa_bot import QABot
    from qa_bot.web.server import create_app

    program = b"MZ this would be a program " + os.urandom(16).hex().encode()
    mention = b'Content-Disposition: form-data; name="files"; filename="tool.exe"\r\n\r\nonly words'
    bot = QABot(index_dir=seed_copy)
    uploads = seed_copy / "uploads"
    with TestClient(create_app(bot), client=("127.0.0.1", 50000)) as client:
        resp = client.post("/gradio_api/upload", files={"files": ("tool.exe", program)})
        assert resp.status_code == 415 and resp.text.startswith("tool.exe was not added: only .txt")
        mixed = client.post("/gradio_api/upload", files=[("files", ("a.txt", b"words")), ("files", ("b.sh", program))])
        assert mixed.status_code == 415 and "b.sh was not added" in mixed.text
        stored = [p for p in uploads.rglob("*") if p.is_file() and program in p.read_bytes()]
        assert stored == []
        taken = client.post("/gradio_api/upload", files={"files": ("notes.txt", mention)})
        assert taken.status_code == 200, taken.text
        assert [p.name for p in uploads.rglob("*") if p.is_file() and p.read_bytes() == mention] == ["notes.txt"]


def test_part_names_are_read_across_chunks_from_headers_only():
    from qa_bot.web.uploads import PartNames

    body = (
        b"--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"first report.pdf\"\r\n"
        b"Content-Type: application/pdf\r\n\r\n%PDF filename=\"inside.exe\" --Xy\r\n"
        b"--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"second.docx\"\r\n\r\nbody\r\n--XyZ--\r\n"
    )
    for size in (1, 3, 7, len(body)):
        names = PartNames("multipart/form-data; boundary=XyZ")
        found = [n for i in range(0, len(body), size) for n in names.feed(body[i : i + size])]
        assert found == ["first report.pdf", "second.docx"], size
    other_forms = PartNames("multipart/form-data; boundary=XyZ").feed(
        b"--XyZ\r\nContent-Disposition: form-data; name=files; filename=bare.exe\r\n\r\nx\r\n"
        b"--XyZ\r\nContent-Disposition: form-data; name=files; filename*=UTF-8''r%C3%A9sum%C3%A9.sh\r\n\r\nx\r\n"
    )
    assert other_forms == ["bare.exe", "UTF-8''r%C3%A9sum%C3%A9.sh"]
    endless = PartNames("multipart/form-data; boundary=XyZ")
    with pytest.raises(ValueError, match="no end to its headers"):
        endless.feed(b"--XyZ\r\n" + b"X" * (PartNames.MAX_HEADERS + 10))


# ---- the folder itself ---------------------------------------------------------------------

def _folder(tmp_path: Path, received: set[str], **limits) -> UploadFolder:
    options = {"max_bytes": 1000, "quota_bytes": 10_000, **limits}
    return UploadFolder(tmp_path / "uploads", received=lambda p: str(p) in received, **options)


def _receive(folder: UploadFolder, received: set[str], name: str, data: bytes) -> Path:
    path = folder.incoming / f"h{len(received)}" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    received.add(str(path))
    return path


def test_folder_refuses_what_it_did_not_receive_without_opening_it(tmp_path):
    received: set[str] = set()
    folder = _folder(tmp_path, received)
    folder.reset()
    outside = tmp_path / "secret.txt"
    outside.write_text(SECRET)
    planted = folder.incoming / "x" / "planted.txt"
    planted.parent.mkdir()
    planted.write_text(SECRET)
    link = _receive(folder, received, "link.txt", b"")
    link.unlink()
    link.symlink_to(outside)  # a received name that now points elsewhere
    accepted, refused = folder.accept([str(outside), str(planted), str(link), "relative.txt"])
    assert accepted == [] and len(refused) == 4
    assert all("only files uploaded through this page" in r for r in refused)
    assert outside.read_text() == SECRET and not any(folder.root.glob("*.txt"))


def test_folder_removes_received_files_whether_added_or_not(tmp_path):
    received: set[str] = set()
    folder = _folder(tmp_path, received)
    folder.reset()
    good = _receive(folder, received, "a b.txt", b"A short article.")
    big = _receive(folder, received, "big.md", b"x" * 1001)
    png = _receive(folder, received, "photo.png", b"\x89PNG")
    accepted, refused = folder.accept([str(good), str(big), str(png)])
    assert accepted == [folder.root / "a_b.txt"] and accepted[0].read_text() == "A short article."
    assert any("big.md" in r and "limit" in r for r in refused) and any("photo.png" in r for r in refused)
    assert not any(p.is_file() for p in folder.incoming.rglob("*"))


def test_folder_quota_counts_what_is_kept(tmp_path):
    received: set[str] = set()
    folder = _folder(tmp_path, received, quota_bytes=2500)
    folder.reset()
    first = _receive(folder, received, "one.txt", b"1" * 900)
    assert folder.accept([str(first)])[0]
    again = _receive(folder, received, "one.txt", b"1" * 950)  # replacing a file adds only the difference
    assert folder.accept([str(again)])[0]
    second = _receive(folder, received, "two.txt", b"2" * 900)
    accepted, refused = folder.accept([str(second)])
    assert accepted == [] and "full" in refused[0]


def test_sweep_removes_uploads_nobody_added(tmp_path):
    received: set[str] = set()
    folder = _folder(tmp_path, received)
    folder.reset()
    old = _receive(folder, received, "old.txt", b"old")
    new = _receive(folder, received, "new.txt", b"new")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    folder.sweep(older_than=600)
    assert not old.exists() and not old.parent.exists() and new.exists()
