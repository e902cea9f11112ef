"""The server's programmatic side against a real running `qa-bot serve`: the OpenAI client on
/v1/chat/completions (plain and streamed), raw HTTP errors, gradio_client on the chat's /ask
endpoint, and no file served from outside the uploads."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import ROOT, SEED_ASKED_ON, SEED_DOC
from web_server import seed_server

openai = pytest.importorskip("openai")

NEXT_TALKS = [{"role": "user", "content": "When are the next talks?"}]
JSON = {"Content-Type": "application/json"}  # what curl -H and every OpenAI client send


@pytest.fixture(scope="module")
def server(seed_index, tmp_path_factory):
    with seed_server(seed_index, tmp_path_factory.mktemp("web-api")) as (url, index):
        yield url, index


@pytest.fixture(scope="module")
def client(server):
    url, _ = server
    with openai.OpenAI(base_url=f"{url}/v1", api_key="unused", timeout=120, max_retries=0) as client:
        yield client


def _check_next_talks_citation(citations: list[dict]) -> None:
    first = citations[0]
    assert first["n"] == 1 and first["doc_id"] == SEED_DOC
    assert "February 1" in first["sentence"] and first["sentence"] in first["text"]
    assert first["end"] > first["start"]


def test_models_lists_qa_bot(client):
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "qa-bot" and "qa-bot-extractive" in ids


def test_chat_completion_answers_with_markers_and_citations(client):
    completion = client.chat.completions.create(
        model="qa-bot", messages=NEXT_TALKS, extra_body={"asked_on": SEED_ASKED_ON}
    )
    text = completion.choices[0].message.content
    assert "February 1" in text and "[1]" in text
    assert completion.choices[0].finish_reason == "stop"
    _check_next_talks_citation(completion.model_extra["citations"])


def test_streamed_completion_carries_citations_in_the_last_chunk(client):
    stream = client.chat.completions.create(
        model="qa-bot", messages=NEXT_TALKS, stream=True, extra_body={"asked_on": SEED_ASKED_ON}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "February 1" in text and text.endswith("[1]")
    assert sum(1 for c in chunks if c.choices[0].delta.content) > 3  # it came in pieces
    assert chunks[-1].choices[0].finish_reason == "stop"
    _check_next_talks_citation(chunks[-1].model_extra["citations"])
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])


def test_earlier_messages_are_the_history_of_a_follow_up(client):
    answer = "New meetings are slated for February 1 in Abu Dhabi. [1]"
    messages = [
        {"role": "system", "content": "Answer from the articles."},
        *NEXT_TALKS,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "And where?"},
    ]
    completion = client.chat.completions.create(model="qa-bot", messages=messages, extra_body={"asked_on": SEED_ASKED_ON})
    assert "Abu Dhabi" in completion.choices[0].message.content
    assert "talks" in completion.model_extra["qa_bot"]["standalone_question"].lower()


def test_user_errors_are_openai_style_400s(server, client):
    url, _ = server
    with pytest.raises(openai.BadRequestError, match="empty"):
        client.chat.completions.create(model="qa-bot", messages=[{"role": "user", "content": "   "}])
    with pytest.raises(openai.BadRequestError, match="2,000"):
        client.chat.completions.create(model="qa-bot", messages=[{"role": "user", "content": "why" * 34_000}])
    with pytest.raises(openai.NotFoundError, match="gpt-4"):
        client.chat.completions.create(model="gpt-4", messages=NEXT_TALKS)
    raw = httpx.post(f"{url}/v1/chat/completions", content=b"{not json", headers=JSON, timeout=30)
    assert raw.status_code == 400 and "not valid JSON" in raw.json()["error"]["message"]
    raw = httpx.post(f"{url}/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]})
    assert raw.status_code == 400 and "no user message" in raw.json()["error"]["message"]


def test_plain_http_post_like_curl(server):
    url, _ = server
    body = {"model": "qa-bot", "messages": NEXT_TALKS, "asked_on": SEED_ASKED_ON}
    resp = httpx.post(f"{url}/v1/chat/completions", content=json.dumps(body), headers=JSON, timeout=120)
    assert resp.status_code == 200
    data = resp.json()
    assert data["object"] == "chat.completion"
    assert "February 1" in data["choices"][0]["message"]["content"]
    _check_next_talks_citation(data["citations"])


def test_gradio_client_asks_the_chat(server):
    from gradio_client import Client

    url, _ = server
    bot = Client(url + "/", verbose=False)
    result = bot.predict("When are the next talks?", [], SEED_ASKED_ON, "", 0, api_name="/ask")
    assert "February 1" in result["answer"]
    _check_next_talks_citation(result["citations"])
    with pytest.raises(Exception, match="empty"):
        bot.predict("  ", api_name="/ask")


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../etc/passwd",
        "/gradio_api/file=pyproject.toml",
        f"/gradio_api/file={ROOT}/seeds/{SEED_DOC}.txt",
        "/gradio_api/file={index}/chroma.sqlite3",
        "/gradio_api/file={index}/uploads",
        "/file=/etc/passwd",
        "/static/../../../etc/passwd",
        "/..%2F..%2F..%2Fetc%2Fpasswd",
        "/assets/..%2F..%2Fpyproject.toml",
    ],
)
def test_no_file_outside_the_uploads_is_served(server, path):
    url, index = server
    resp = httpx.get(url + path.format(index=index), timeout=30)
    assert resp.status_code in (403, 404), (path, resp.status_code)
    assert "root:" not in resp.text and "[project]" not in resp.text
