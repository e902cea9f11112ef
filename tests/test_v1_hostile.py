"""Hostile requests against /v1/chat/completions and the server's CORS, through the real app (real
QABot over a copy of the seed index, real Gradio mounted; in-process for most, a real `qa-bot serve`
for what needs a socket): every refusal is an OpenAI-shaped JSON 4xx, never a plain-text 500."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from qa_bot.errors import StoreError
from fastapi import APIRouter, FastAPI
from starlette.testclient import TestClient

from conftest import SEED_ASKED_ON, SEEDS
from web_server import free_port, in_process_client, seed_server, stop

from qa_bot import QABot
from qa_bot.web.openai_api import stream_events
from qa_bot.web.server import create_app

URL = "/v1/chat/completions"
JSON = {"Content-Type": "application/json"}
NEXT_TALKS = {"messages": [{"role": "user", "content": "When are the next talks?"}], "asked_on": SEED_ASKED_ON}
LIMIT = 2**20  # the default api_max_body_mb, 1 MB


@pytest.fixture(scope="module")
def client(seed_index, tmp_path_factory):
    with in_process_client(seed_index, tmp_path_factory.mktemp("v1-hostile")) as client:
        yield client


def _post(client: TestClient, body: object, headers: dict = JSON):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, content=content, headers=headers)


def _refused(resp, status: int, fragment: str) -> None:
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json"), resp.headers["content-type"]
    error = resp.json()["error"]
    assert fragment in error["message"], error["message"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"].endswith(".")


def _user(content) -> dict:
    return {"messages": [{"role": "user", "content": content}]}


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    "body, fragment",
    [
        (_user([{"type": "text", "text": 5}]), "content[0].text must be a string"),
        (_user([{"type": "text", "text": None}]), "content[0].text must be a string"),
        (_user(["plain string part"]), "content[0] must be an object"),
        (_user({"text": "When are the next talks?"}), "content must be a string or a list"),
        (_user(7), "content must be a string or a list"),
        ({**NEXT_TALKS, "model": ["qa-bot"]}, "model must be a string"),
        ({**NEXT_TALKS, "model": {"id": "qa-bot"}}, "model must be a string"),
        ({**NEXT_TALKS, "model": 4}, "model must be a string"),
        ({**NEXT_TALKS, "top_k": 99999999999999999999}, "top_k"),
        ({**NEXT_TALKS, "top_k": True}, "top_k"),
        ({**NEXT_TALKS, "top_k": 2.5}, "top_k"),
        ({**NEXT_TALKS, "top_k": "5"}, "top_k"),
        ({**NEXT_TALKS, "top_k": -1}, "top_k"),
        ({**NEXT_TALKS, "stream": "no"}, "stream must be true or false"),
        ({**NEXT_TALKS, "stream": 1}, "stream must be true or false"),
        ({**NEXT_TALKS, "stream": {}}, "stream must be true or false"),
        ({**NEXT_TALKS, "asked_on": "2026-13-45"}, "asked_on"),
        ({**NEXT_TALKS, "asked_on": 20260125}, "asked_on"),
        ({**NEXT_TALKS, "asked_on": ["2026-01-25"]}, "asked_on"),
        ({"messages": ["hi", *NEXT_TALKS["messages"]]}, "messages[0] must be an object"),
        ({"messages": [None, *NEXT_TALKS["messages"]]}, "messages[0] must be an object"),
        ({"messages": [{"content": "be brief"}, *NEXT_TALKS["messages"]]}, "messages[0] has no 'role'"),
        ({"messages": [{"role": 3, "content": "x"}, *NEXT_TALKS["messages"]]}, "messages[0].role must be one of"),
        ({"messages": [{"role": "wizard", "content": "x"}, *NEXT_TALKS["messages"]]}, "role must be one of"),
        ({"messages": {"role": "user", "content": "hi"}}, "non-empty list"),
        ([NEXT_TALKS], "must be a JSON object"),
        (_deep(100_000), "not valid JSON"),
        (b'{"messages": ' * 50_000, "not valid JSON"),
        (b'{"top_k": ' + b"9" * 5000 + b"}", "not valid JSON"),  # past Python's digit limit
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"", "must be a JSON object"),
    ],
    ids=lambda v: None if isinstance(v, str) else "",
)
def test_malformed_fields_are_openai_shaped_400s(client, body, fragment):
    _refused(_post(client, body), 400, fragment)


def test_a_long_bad_value_is_not_echoed_whole(client):
    resp = _post(client, {**NEXT_TALKS, "model": "x" * 100_000})
    _refused(resp, 404, "does not exist")
    assert len(resp.json()["error"]["message"]) < 300


def test_only_a_real_boolean_streams(client):
    plain = _post(client, {**NEXT_TALKS, "stream": False})
    assert plain.status_code == 200 and plain.json()["object"] == "chat.completion"
    streamed = _post(client, {**NEXT_TALKS, "stream": True})
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    assert "February 1" in streamed.text and streamed.text.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"])
def test_a_post_that_is_not_declared_json_is_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post(URL, content=json.dumps(NEXT_TALKS).encode(), headers=headers)
    _refused(resp, 415, "Content-Type: application/json")


def test_json_with_a_charset_is_accepted(client):
    resp = _post(client, NEXT_TALKS, headers={"Content-Type": "Application/JSON; charset=utf-8"})
    assert resp.status_code == 200 and "February 1" in resp.json()["choices"][0]["message"]["content"]


def test_a_body_over_the_limit_is_413(client):
    padded = {**NEXT_TALKS, "padding": "x" * (2 * 2**20)}
    _refused(_post(client, padded), 413, "larger than the limit of 1,048,576 bytes")
    just_under = {**NEXT_TALKS, "padding": "x" * (LIMIT - 1000)}
    assert _post(client, just_under).status_code == 200


def test_the_body_limit_is_a_setting(seed_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    with TestClient(create_app(QABot(index_dir=index, api_max_body_mb=0.01))) as small:
        _refused(_post(small, {**NEXT_TALKS, "padding": "x" * 20_000}), 413, "10,485 bytes")
        assert _post(small, NEXT_TALKS).status_code == 200


@pytest.mark.parametrize(
    "method, path, status",
    [("GET", URL, 405), ("PUT", URL, 405), ("POST", "/v1/models", 405), ("GET", "/v1/embeddings", 404),
     ("POST", "/v1/completions", 404), ("GET", "/v1/", 404), ("DELETE", "/v1/chat/completions/x", 404)],
)
def test_other_v1_routes_and_methods_are_openai_shaped(client, method, path, status):
    resp = client.request(method, path, headers=JSON, content=b"{}")
    _refused(resp, status, "/v1/")


def test_an_unforeseen_failure_is_a_json_500_and_logged(caplog):
    from qa_bot.web.openai_api import GuardedRoute

    router = APIRouter(prefix="/v1", route_class=GuardedRoute)

    @router.get("/boom")
    def boom() -> dict:
        return {"n": 1 // 0}

    app = FastAPI()
    app.include_router(router)
    with caplog.at_level(logging.ERROR, logger="qa_bot.web.openai_api"):
        resp = TestClient(app, raise_server_exceptions=False).get("/v1/boom")
    assert resp.status_code == 500
    assert resp.json()["error"] == {
        "message": "The server failed on this request; the details are in its log.",
        "type": "server_error", "param": None, "code": None,
    }
    assert "ZeroDivisionError" in caplog.text and "Traceback" not in resp.text


def test_a_stream_failing_midway_ends_with_an_error_event():
    def items():
        yield "New meetings "
        raise RuntimeError("lost the store")

    events = list(stream_events(items(), "qa-bot", "id1", 0))
    error = json.loads(events[-2].removeprefix("data: "))["error"]
    assert error["type"] == "server_error" and "lost the store" not in error["message"]
    assert events[-1] == "data: [DONE]\n\n"


# ---- CORS ----------------------------------------------------------------------------------

CROSS_ORIGIN = [
    ("127.0.0.1:7860", "http://localhost:9999"),  # another local dev server's page
    ("localhost:7860", "http://127.0.0.1:3000"),
    ("qa.example.org", "https://evil.example"),  # behind a proxy: Gradio's middleware allowed any origin
    ("127.0.0.1:7860", "null"),
]
PATHS = [("GET", "/v1/models"), ("POST", URL), ("GET", "/gradio_api/info"), ("GET", "/config"),
         ("POST", "/gradio_api/call/ask"), ("POST", "/gradio_api/upload")]


def _no_credentialed_cors(resp, origin: str) -> None:
    allowed = resp.headers.get("access-control-allow-origin")
    assert resp.headers.get("access-control-allow-credentials") is None, dict(resp.headers)
    assert allowed not in (origin, "*"), dict(resp.headers)


@pytest.mark.parametrize("host, origin", CROSS_ORIGIN)
@pytest.mark.parametrize("method, path", PATHS)
def test_no_cross_origin_read_and_no_credentials(client, host, origin, method, path):
    headers = {"Host": host, "Origin": origin}
    resp = client.request(method, path, headers={**headers, **JSON}, content=json.dumps(NEXT_TALKS).encode())
    _no_credentialed_cors(resp, origin)
    preflight = client.options(path, headers={**headers, "Access-Control-Request-Method": method,
                                              "Access-Control-Request-Headers": "content-type"})
    _no_credentialed_cors(preflight, origin)


def test_same_origin_page_still_works(client):
    headers = {"Host": "127.0.0.1:7860", "Origin": "http://127.0.0.1:7860"}
    assert client.get("/config", headers=headers).status_code == 200
    assert client.get("/gradio_api/info", headers=headers).status_code == 200
    resp = _post(client, NEXT_TALKS, headers={**headers, **JSON})
    assert resp.status_code == 200 and "February 1" in resp.json()["choices"][0]["message"]["content"]


def test_a_configured_origin_may_read_without_credentials(seed_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    app = create_app(QABot(index_dir=index, cors_origins=["https://app.example"]))
    with TestClient(app) as c:
        resp = c.get("/v1/models", headers={"Origin": "https://app.example"})
        assert resp.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-credentials" not in resp.headers
        _no_credentialed_cors(c.get("/v1/models", headers={"Origin": "https://evil.example"}), "https://evil.example")


# ---- on a real server: a streamed (chunked) body is cut off at the limit -------------------------


@pytest.fixture(scope="module")
def served(seed_index, tmp_path_factory):
    with seed_server(seed_index, tmp_path_factory.mktemp("v1-served")) as (url, _):
        yield url.removeprefix("http://").split(":")


def _raw(host: str, port: str, head: str, chunks, timeout: float = 30) -> tuple[int, bytes, int]:
    """Sends `head` then the body pieces until the server answers; returns the status, the
    answer and how many body bytes were sent before it did."""
    sent = 0
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.encode())
        sock.settimeout(0.0)
        reply = b""
        deadline = time.monotonic() + timeout
        for piece in chunks:
            try:
                reply += sock.recv(65536)
            except BlockingIOError:
                pass
            if reply or time.monotonic() > deadline:
                break
            try:
                sock.settimeout(5)
                sock.sendall(piece)
                sock.settimeout(0.0)
            except OSError:  # the server answered and closed while we were still sending
                break
            sent += len(piece)
        sock.settimeout(timeout)
        try:
            while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
                more = sock.recv(65536)
                if not more:
                    break
                reply += more
        except OSError:
            pass
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0
    return status, reply, sent


def test_a_chunked_body_is_refused_once_past_the_limit(served):
    host, port = served
    head = (f"POST {URL} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    status, reply, sent = _raw(host, port, head, (chunk for _ in range(2000)))  # up to 128 MB
    assert status == 413, reply[:300]
    assert b'"request_too_large"' in reply
    assert sent < 16 * LIMIT, sent  # the server stopped reading near 1 MB (plus socket buffers)


def test_a_declared_size_over_the_limit_is_refused_before_the_body(served):
    host, port = served
    head = (f"POST {URL} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {256 * 2**20}\r\n\r\n")
    status, reply, sent = _raw(host, port, head, [b"{"])
    assert status == 413 and b"larger than the limit" in reply, reply[:300]


# ---- Chroma going away under a running server ----------------------------------------------------


@pytest.mark.server
def test_a_dead_chroma_server_is_a_json_503(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "chroma.log").open("wb")
    chroma = subprocess.Popen(
        [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(tmp_path / "db"),
         "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                assert chroma.poll() is None and time.monotonic() < deadline, "chroma run did not come up"
                time.sleep(0.2)
        bot = QABot(index_dir=tmp_path / "local", chroma_url=url, collection="seed")
        bot.ingest([SEEDS])
        with TestClient(create_app(bot), raise_server_exceptions=False) as client:
            assert "February 1" in _post(client, NEXT_TALKS).json()["choices"][0]["message"]["content"]
            chroma.kill()
            chroma.wait()
            for body in (NEXT_TALKS, {**NEXT_TALKS, "stream": True}):
                resp = _post(client, body)
                _refused(resp, 503, "cannot be reached")
                assert resp.json()["error"]["code"] == "store_unavailable"
        # the Python API (and so the CLI and the page) says the same sentence, not the client's error
        with pytest.raises(StoreError, match="cannot be reached"):
            bot.ask("When are the next talks?", asked_on="2026-01-25")
    finally:
        stop(chroma)
        log.close()
