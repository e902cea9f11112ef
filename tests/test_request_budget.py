"""One request budget for every surface, enforced in `QABot.ask`: history turns and characters
(older turns dropped, the rewrite within the question limit), top_k from 1 to 50, and malformed
arguments as one sentence, on the API, the CLI and the chat's `/ask`."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from conftest import ROOT, SEED_ASKED_ON
from web_server import seed_server

from qa_bot.chat.history import bounded_history
from qa_bot.errors import InputError

TEN_MB = 10 * 2**20


def test_history_keeps_the_latest_turns_within_the_budget():
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"} for i in range(100_000)]
    kept = bounded_history(turns, max_turns=20, max_chars=8000)
    assert [t["content"] for t in kept] == [f"turn {i}" for i in range(99_980, 100_000)]
    huge = [{"role": "user", "content": "old " * 100}, {"role": "assistant", "content": "x" * TEN_MB}]
    kept = bounded_history(huge, max_turns=20, max_chars=8000)
    assert kept == [{"role": "assistant", "content": "x" * 8000}]  # the older turn no longer fits
    assert bounded_history([{"role": "system", "content": "be brief"}], 20, 8000) == []
    assert bounded_history(None, 20, 8000) == []


@pytest.mark.parametrize(
    "history, words",
    [
        ("When are the next talks?", "list"),
        ({"role": "user", "content": "x"}, "list"),
        (["When are the next talks?"], "turn 1"),
        ([{"role": "user"}], "text content"),
        ([{"role": "user", "content": 5}], "text content"),
        ([{"role": "wizard", "content": "x"}], "role"),
    ],
)
def test_malformed_history_is_one_sentence(history, words):
    with pytest.raises(InputError, match=words):
        bounded_history(history, 20, 8000)


def test_ten_megabytes_of_history_cost_under_a_second_and_the_follow_up_still_works(seed_bot):
    seed_bot.ask("When are the next talks?", asked_on=SEED_ASKED_ON)  # the model is loaded before timing
    history = [
        {"role": "user", "content": "tell me everything " * (TEN_MB // 19)},
        {"role": "assistant", "content": "y" * TEN_MB},
        {"role": "user", "content": "When are the next talks?"},
        {"role": "assistant", "content": "New meetings are slated for February 1 in Abu Dhabi."},
    ]
    started = time.process_time()
    answer = seed_bot.ask("And where?", history=history, asked_on=SEED_ASKED_ON)
    cpu = time.process_time() - started
    assert cpu < 1.0, cpu
    assert "Abu Dhabi" in answer.text
    assert len(answer.standalone_question) <= seed_bot.settings.max_question_chars


def test_a_rewrite_never_exceeds_the_question_limit(seed_bot):
    long_question = "When are the next talks between the delegations " + "that met in Abu Dhabi " * 340 + "?"
    history = [{"role": "user", "content": long_question}, {"role": "assistant", "content": "February 1."}]
    answer = seed_bot.ask("And where?", history=history, asked_on=SEED_ASKED_ON)
    assert len(answer.standalone_question) <= seed_bot.settings.max_question_chars


@pytest.mark.parametrize(
    "top_k", [0, 51, -3, 2.5, True, "5", 99999999999999999999, 10**5000],
    ids=["0", "51", "-3", "2.5", "True", "str", "20-digits", "5000-digits"],
)
def test_top_k_outside_one_to_fifty_is_one_sentence(seed_bot, top_k):
    with pytest.raises(InputError, match="top_k must be a whole number from 1 to 50"):
        seed_bot.ask("When are the next talks?", top_k=top_k, asked_on=SEED_ASKED_ON)


def test_top_k_fifty_is_served(seed_bot):
    answer = seed_bot.ask("When are the next talks?", top_k=50, asked_on=SEED_ASKED_ON)
    assert "February 1" in answer.text and 1 <= len(answer.passages) <= 50


@pytest.mark.parametrize("asked_on, answerer", [(20260125, None), ("2026-02-30", None), (None, 3), (None, "oracle")])
def test_bad_asked_on_or_answerer_is_one_sentence(seed_bot, asked_on, answerer):
    with pytest.raises(InputError):
        seed_bot.ask("When are the next talks?", asked_on=asked_on, answerer=answerer)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--top-k", "99999999999999999999"], "top_k must be a whole number from 1 to 50"),
        (["--asked-on", "2026-13-45"], "expected a date like 2026-01-25"),
        (["--top-k", "many"], "invalid int value"),
    ],
)
def test_cli_flag_mistakes_are_one_line_and_exit_2(seed_index, args, words):
    result = subprocess.run(
        [sys.executable, "-m", "qa_bot.cli", "ask", "When are the next talks?", "--index", str(seed_index), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr


@pytest.fixture(scope="module")
def chat_api(seed_index, tmp_path_factory):
    from gradio_client import Client

    with seed_server(seed_index, tmp_path_factory.mktemp("budget")) as (url, _):
        yield Client(url + "/", verbose=False)


@pytest.mark.parametrize(
    "history, top_k, words",
    [
        ([{"role": "user"}], 0, "History turn 1 must have text content"),
        ([], 2.5, "top_k must be a whole number"),
        ("not a list", 0, "must be a list"),
    ],
)
def test_the_chat_api_says_what_is_wrong_in_words(chat_api, history, top_k, words):
    """Before: "'content'" and "slice indices must be integers or None…", Python's own words."""
    with pytest.raises(Exception) as raised:
        chat_api.predict("When are the next talks?", history, SEED_ASKED_ON, "", top_k, api_name="/ask")
    assert words in str(raised.value)
