"""Load: 50 concurrent questions to the chat's API (/gradio_api/call/ask, what gradio_client and curl
use) and 50 to /v1/chat/completions, against one real `qa-bot serve` on loopback. Every one must be
answered correctly; latencies are printed as one JSON line and kept in test-artifacts/load.json."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import SEED_ASKED_ON
from web_server import ARTIFACTS, seed_server

N = 50
QUESTION = "When are the next talks?"
TIMEOUT = 120.0  # per request; the whole test is bounded by N × TIMEOUT / workers at worst


@pytest.fixture(scope="module")
def url(seed_index, tmp_path_factory):
    with seed_server(seed_index, tmp_path_factory.mktemp("load")) as (base, _):
        # one question first: the model is loaded and the BM25 snapshot built before timing
        assert "February 1" in _openai(base)[1]
        yield base


def _chat(url: str) -> tuple[int, str]:
    """Gradio's HTTP API: POST starts the event, GET streams its result as server-sent events."""
    with httpx.Client(timeout=TIMEOUT) as client:
        started = client.post(f"{url}/gradio_api/call/ask", json={"data": [QUESTION, [], SEED_ASKED_ON, "", 0]})
        if started.status_code != 200:
            return started.status_code, started.text
        event_id = started.json()["event_id"]
        event = ""
        with client.stream("GET", f"{url}/gradio_api/call/ask/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = json.loads(line.removeprefix("data:"))
                    answer = data[0]["answer"] if event == "complete" and data else str(data)
                    return (200 if event == "complete" else 500), answer
    return 500, f"stream ended without a result (last event: {event or 'none'})"


def _openai(url: str) -> tuple[int, str]:
    body = {"model": "qa-bot", "messages": [{"role": "user", "content": QUESTION}], "asked_on": SEED_ASKED_ON}
    resp = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=TIMEOUT)
    if resp.status_code != 200:
        return resp.status_code, resp.text
    return 200, resp.json()["choices"][0]["message"]["content"]


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q of the values at or below it."""
    rank = max(1, -(-len(sorted_values) * q // 1))
    return sorted_values[int(rank) - 1]


def _burst(call: Callable[[str], tuple[int, str]], url: str) -> dict:
    def timed(_: int) -> tuple[float, int, str]:
        t0 = time.perf_counter()
        status, text = call(url)
        return time.perf_counter() - t0, status, text

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=N) as pool:
        results = list(pool.map(timed, range(N)))
    wall = time.perf_counter() - t0
    failures = [(status, text[:200]) for _, status, text in results if status != 200 or "February 1" not in text]
    assert not failures, failures[:3]
    latencies = sorted(seconds for seconds, _, _ in results)
    return {
        "n": N,
        "ok": N - len(failures),
        "wall_s": round(wall, 2),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000),
        "max_ms": round(latencies[-1] * 1000),
    }


def test_percentile_by_hand():
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert (_percentile(values, 0.5), _percentile(values, 0.95), _percentile(values, 1.0)) == (10.0, 19.0, 20.0)


def test_50_concurrent_chats_and_50_concurrent_completions(url):
    figures = {"chat_api": _burst(_chat, url), "openai_api": _burst(_openai, url)}
    line = json.dumps({"load": figures})
    print(line)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(line + "\n", encoding="utf-8")
