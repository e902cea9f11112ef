"""Property tests of /v1/chat/completions with hypothesis: thousands of random and mutated request
bodies (valid JSON with wrong types, random bytes, corrupted good requests, huge numbers, deep
nesting, any Content-Type) through the real app (a real QABot over a copy of the seed index, the
real FastAPI and Gradio stack, in-process). Whatever comes in: never a 500, every 4xx is an
OpenAI-shaped JSON error with a sentence, and afterwards the seed question is still answered.
Case counts are printed (`-s`) and kept in test-artifacts/property_v1.json."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from conftest import SEED_ASKED_ON
from web_server import ARTIFACTS, in_process_client


URL = "/v1/chat/completions"
JSON = {"Content-Type": "application/json"}
GOOD = {"model": "qa-bot", "messages": [{"role": "user", "content": "When are the next talks?"}], "asked_on": SEED_ASKED_ON}
ROLES = ["system", "developer", "user", "assistant", "tool"]
COUNTS: dict[str, dict] = {}


def _settings(n: int):
    return settings(
        max_examples=n, deadline=None, database=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )


@pytest.fixture(scope="module")
def client(seed_index, tmp_path_factory):
    with in_process_client(seed_index, tmp_path_factory.mktemp("v1-property")) as client:
        yield client
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "property_v1.json").write_text(json.dumps({"property_v1": COUNTS}) + "\n", encoding="utf-8")


def _check(resp, tally: dict) -> None:
    """The property: a result or a sentence, never a server error."""
    tally["cases"] += 1
    tally.setdefault(str(resp.status_code), 0)
    tally[str(resp.status_code)] += 1
    assert resp.status_code < 500, (resp.status_code, resp.text[:300])
    if resp.status_code >= 400:
        error = resp.json()["error"]
        assert isinstance(error["message"], str) and error["message"].strip().endswith("."), error
        assert error["type"] == "invalid_request_error" and len(error["message"]) < 400, error
    elif resp.headers["content-type"].startswith("text/event-stream"):
        assert resp.text.rstrip().endswith("data: [DONE]") and "Traceback" not in resp.text
    else:
        assert resp.json()["object"] == "chat.completion"


def _still_answers(client: TestClient, name: str, tally: dict, started: float) -> None:
    resp = client.post(URL, content=json.dumps(GOOD).encode(), headers=JSON)
    assert resp.status_code == 200 and "February 1" in resp.json()["choices"][0]["message"]["content"]
    tally["seconds"] = round(time.monotonic() - started, 1)
    COUNTS[name] = tally
    print(json.dumps({name: tally}))


# ---- strategies ------------------------------------------------------------------------------

LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**18, max_value=10**60),
    st.floats(), st.text(max_size=30),
)
VALUE = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
PART = st.one_of(
    VALUE,
    st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url"]) | VALUE}, optional={"text": st.text(max_size=40) | VALUE}),
)
CONTENT = st.one_of(st.text(max_size=80), st.just("When are the next talks?"), st.none(), VALUE, st.lists(PART, max_size=3))
MESSAGE = st.one_of(
    VALUE,
    st.fixed_dictionaries({}, optional={"role": st.sampled_from(ROLES) | VALUE, "content": CONTENT, "name": VALUE}),
)
BODY = st.fixed_dictionaries(
    {},
    optional={
        "messages": st.lists(MESSAGE, max_size=5) | VALUE,
        # not qa-bot-llm: loading the local model is not what these cases are about
        "model": st.sampled_from(["qa-bot", "qa-bot-extractive", "", "gpt-4"]) | VALUE,
        "top_k": st.integers() | VALUE,
        "stream": st.booleans() | VALUE,
        "asked_on": st.dates().map(str) | st.text(max_size=12) | VALUE,
        "temperature": VALUE,
    },
)


# a good request with one field (or one message's field) replaced by anything
ONE_BAD_FIELD = st.one_of(
    st.builds(lambda field, value: {**GOOD, field: value},
              st.sampled_from(["messages", "model", "top_k", "stream", "asked_on", "n", "temperature"]), VALUE),
    st.builds(lambda key, value: {**GOOD, "messages": [{"role": "system", "content": "be brief", key: value}, *GOOD["messages"]]},
              st.sampled_from(["role", "content", "name"]), VALUE),
    st.builds(lambda history, stream, top_k: {**GOOD, "messages": [*history, *GOOD["messages"]], "stream": stream, "top_k": top_k},
              st.lists(MESSAGE, max_size=4), st.booleans(), st.integers(-3, 60)),
)


def test_random_request_shapes(client):
    tally, started = {"cases": 0}, time.monotonic()

    @_settings(1500)
    @given(BODY | ONE_BAD_FIELD)
    def case(body):
        _check(client.post(URL, content=json.dumps(body).encode(), headers=JSON), tally)

    case()
    _still_answers(client, "shapes", tally, started)


def test_random_bytes(client):
    tally, started = {"cases": 0}, time.monotonic()

    @_settings(1500)
    @given(st.binary(max_size=4000) | st.text(max_size=2000).map(str.encode))
    def case(raw):
        _check(client.post(URL, content=raw, headers=JSON), tally)

    case()
    _still_answers(client, "bytes", tally, started)


MUTATION = st.tuples(st.sampled_from(["flip", "insert", "delete", "repeat"]), st.integers(0, 10_000), st.binary(min_size=1, max_size=8))


def _mutate(raw: bytes, mutations: list[tuple[str, int, bytes]]) -> bytes:
    data = bytearray(raw)
    for op, at, piece in mutations:
        at %= max(len(data), 1)
        if op == "flip" and data:
            data[at] ^= piece[0]
        elif op == "insert":
            data[at:at] = piece
        elif op == "delete":
            del data[at:at + len(piece)]
        elif op == "repeat":
            data[at:at] = data[at:at + 16] * piece[0]
    return bytes(data)


def test_mutated_good_requests(client):
    tally, started = {"cases": 0}, time.monotonic()
    good = [json.dumps(GOOD).encode(), json.dumps({**GOOD, "stream": True, "top_k": 3}).encode(),
            json.dumps({**GOOD, "messages": [{"role": "user", "content": [{"type": "text", "text": "Where?"}]}]}).encode()]

    @_settings(1500)
    @given(st.sampled_from(good), st.lists(MUTATION, min_size=1, max_size=4))
    def case(raw, mutations):
        _check(client.post(URL, content=_mutate(raw, mutations), headers=JSON), tally)

    case()
    _still_answers(client, "mutated", tally, started)


def _nest(depth: int, kind: str, leaf: str) -> str:
    opening, closing = {"list": ("[", "]"), "object": ('{"a":', "}")}[kind]
    return opening * depth + leaf + closing * depth


def test_deep_nesting_and_huge_numbers(client):
    tally, started = {"cases": 0}, time.monotonic()
    fields = ["messages", "model", "top_k", "stream", "asked_on", "content", "text", "role"]

    @_settings(400)
    @given(st.integers(1, 120_000), st.sampled_from(["list", "object"]), st.sampled_from(fields),
           st.sampled_from(["1", '"x"', "9" * 5000, "1e999", "-1e999", "NaN", "null"]))
    def case(depth, kind, field, leaf):
        value = _nest(depth, kind, leaf)
        if field in ("content", "text", "role"):
            part = f'{{"type":"text","text":{value}}}' if field == "text" else value
            message = f'{{"role":"user","content":[{part}]}}' if field == "text" else (
                f'{{"role":"user","content":{value}}}' if field == "content" else f'{{"role":{value},"content":"hi"}}')
            raw = f'{{"messages":[{message}]}}'
        else:
            raw = f'{{"messages":[{{"role":"user","content":"When are the next talks?"}}],"{field}":{value}}}'
        _check(client.post(URL, content=raw.encode(), headers=JSON), tally)

    case()
    _still_answers(client, "nesting", tally, started)


def test_any_content_type(client):
    tally, started = {"cases": 0}, time.monotonic()

    @_settings(400)
    @given(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60) | st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "application/json"]),
           st.sampled_from([json.dumps(GOOD).encode(), b"not json", b""]))
    def case(content_type, raw):
        try:
            headers = {"Content-Type": content_type}
            resp = client.post(URL, content=raw, headers=headers)
        except (UnicodeEncodeError, ValueError):  # not a header a client can send at all
            return
        _check(resp, tally)
        if content_type.partition(";")[0].strip().lower() != "application/json":
            assert resp.status_code == 415

    case()
    _still_answers(client, "content_type", tally, started)
