"""The web layer's pure parts: escaped answer HTML, upload names and limits, the OpenAI message
split and the SSE stream."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from qa_bot.errors import InputError
from qa_bot.types import Answer, Citation, ShortAnswer
from qa_bot.web import cards
from qa_bot.web.app import question_options
from qa_bot.web.openai_api import content_of, split_messages, stream_events
from qa_bot.web.uploads import safe_name

PASSAGE = "Talks ended. New meetings are slated for February 1 <b>in</b> Abu Dhabi. More later."
SENTENCE = "New meetings are slated for February 1 <b>in</b> Abu Dhabi."


def citation(**changes) -> Citation:
    start = 100 + PASSAGE.index(SENTENCE)
    fields = dict(
        n=1, doc_id="d1", title="<i>Talks</i>", text=PASSAGE, start=start, end=start + len(SENTENCE),
        score=0.5, passage_start=100, source="Axios & co", published=date(2026, 1, 24),
    )
    return Citation(**{**fields, **changes})


def answer(**changes) -> Answer:
    fields = dict(text=SENTENCE, abstained=False, citations=[citation()], question="q", standalone_question="q")
    return Answer(**{**fields, **changes})


def test_source_card_escapes_and_highlights_the_cited_sentence():
    html = cards.answer_html(answer())
    assert "<b>" not in html and "<i>" not in html
    assert "<mark>New meetings are slated for February 1 &lt;b&gt;in&lt;/b&gt; Abu Dhabi.</mark>" in html
    assert "Axios &amp; co" in html and '<time datetime="2026-01-24">24 Jan 2026</time>' in html
    # the [1] marker appended to the answer links to card 1 of this answer
    card_id = re.search(r'<div class="qa-card" id="(qa[0-9a-f]+-1)">', html).group(1)
    assert f'<sup><a class="qa-ref" href="#{card_id}">1</a></sup>' in html
    assert "\n" not in html  # one HTML block for the Markdown renderer


def test_bad_offsets_still_render_the_passage():
    html = cards.highlighted_passage(citation(start=5, end=10_000))
    assert html.startswith("<mark>") and "More later." in html


@pytest.mark.parametrize(
    ("kind", "expected", "absent"),
    [
        ("abstained", "qa-abstained", "qa-card"),
        ("follow_up", "Understood as: <q>When are the next talks?</q>", "qa-abstained"),
    ],
)
def test_abstention_and_rewrite_are_marked(kind, expected, absent):
    if kind == "abstained":
        a = answer(text="The indexed articles do not answer this question.", abstained=True)
    else:
        a = answer(question="And where?", standalone_question="When are the next talks?")
    html = cards.answer_html(a)
    assert expected in html and absent not in html


def test_markers_are_added_once():
    assert cards.with_markers(answer()) == SENTENCE + " [1]"
    assert cards.with_markers(answer(text="Feb 1 [1].")) == "Feb 1 [1]."
    assert cards.with_markers(answer(citations=[])) == SENTENCE


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini.TXT", "boot.ini.txt"),
        ("my notes (v2).md", "my_notes_v2.md"),
        (".hidden.txt", "hidden.txt"),
        ("/abs/path/../x.jsonl", "x.jsonl"),
        ("...", "article"),
        ("é🙂.html", "article.html"),
    ],
)
def test_safe_name_keeps_only_a_plain_name(given, expected):
    assert safe_name(given) == expected


def test_question_options_from_the_controls():
    options = question_options("extractive", 3, ["Axios"], "2026-01-01", "")
    assert options["top_k"] == 3 and options["answerer"] == "extractive"
    assert options["filters"].sources == ("Axios",) and options["filters"].published_from == date(2026, 1, 1)
    assert question_options("", 0, [], "", "")["filters"] is None
    with pytest.raises(InputError, match="2026-01-25"):
        question_options("extractive", 5, [], "yesterday", "")
    with pytest.raises(InputError, match="after"):
        question_options("extractive", 5, [], "2026-02-01", "2026-01-01")


def test_split_messages_takes_the_last_user_turn_as_the_question():
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "When are the next talks?"},
        {"role": "assistant", "content": [{"type": "text", "text": "February 1."}]},
        {"role": "user", "content": [{"type": "text", "text": "And where?"}]},
    ]
    question, history = split_messages(messages)
    assert question == "And where?"
    assert history == [
        {"role": "user", "content": "When are the next talks?"},
        {"role": "assistant", "content": "February 1."},
    ]
    for bad in (None, [], [{"role": "system", "content": "x"}], "hello"):
        with pytest.raises(InputError):
            split_messages(bad)


def _events(items) -> list:
    out = []
    for event in stream_events(iter(items), "qa-bot", "id1", 0):
        assert event.startswith("data: ") and event.endswith("\n\n")
        payload = event[len("data: "):].strip()
        out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def test_stream_sends_pieces_then_markers_and_citations():
    events = _events(["New meetings ", "are slated.", answer(text="New meetings are slated.")])
    deltas = [e["choices"][0]["delta"].get("content", "") for e in events[:-1]]
    assert "".join(deltas) == "New meetings are slated. [1]"
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["citations"][0]["sentence"] == SENTENCE
    assert events[-1] == "[DONE]"


def test_stream_replaced_draft_sends_the_final_answer_whole():
    events = _events(["An unsupported draft.", answer(text="The checked answer.")])
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert text.endswith("\n\nThe checked answer. [1]")


def test_short_answer_comes_first_bold_in_the_chat_and_first_in_v1_content():
    short = ShortAnswer("February 1", SENTENCE.index("February 1"), SENTENCE.index("February 1") + 10, "date")
    html = cards.answer_html(answer(short_answer=short))
    assert "<strong>February 1</strong>" in html
    assert html.index("<strong>February 1</strong>") < html.index('class="qa-answer"')
    assert content_of(answer(short_answer=short)) == f"February 1\n\n{SENTENCE} [1]"
    assert content_of(answer()) == f"{SENTENCE} [1]"  # no short answer: the sentence stands alone
    assert "<strong>" not in cards.answer_html(answer())


def test_stream_with_a_short_answer_sends_it_first():
    final = answer(text="New meetings are slated.", short_answer=ShortAnswer("February 1", 0, 10, "date"))
    events = _events(["February 1\n\n", "New meetings ", "are slated.", final])
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert text == "February 1\n\nNew meetings are slated. [1]"
