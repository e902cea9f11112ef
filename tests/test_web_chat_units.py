"""The chat's parts that need no browser: the notes under an answer, the conversations kept in the
browser and their Markdown export, the reader's highlights, and the steps `QABot.ask` reports."""

from __future__ import annotations

from datetime import date

from test_web_units import SENTENCE, answer, citation

from conftest import SEED_ASKED_ON

from qa_bot.answer.notes import LLM_REPLACED, answer_notes, filter_note, passed_event_note
from qa_bot.store import ArticleRecord, Filters
from qa_bot.web import cards, conversations


def _record(doc_id: str, source: str) -> ArticleRecord:
    return ArticleRecord(doc_id, doc_id, source, "", date(2026, 1, 1), "", "", 3)


def test_an_announced_event_that_has_passed_is_said_so():
    dated = answer()  # published 2026-01-24, "February 1" in the cited sentence
    note = passed_event_note(dated, date(2026, 2, 10))
    assert note and "February 1, 2026" in note and "February 10, 2026" in note and "January 24, 2026" in note
    assert passed_event_note(dated, date(2026, 1, 25)) is None  # still ahead
    undated = answer(citations=[citation(published=None)], standalone_question="When are the next talks?", direction=1)
    assert "February 1, 2026" in passed_event_note(undated, date(2026, 2, 10))
    # an undated article and a question that does not look ahead: a date in it may be a past event
    assert passed_event_note(answer(citations=[citation(published=None)]), date(2026, 2, 10)) is None
    assert passed_event_note(answer(abstained=True), date(2026, 2, 10)) is None


def test_the_filter_that_narrowed_the_search_is_named():
    records = [_record("a", "Axios"), _record("b", "Reuters"), _record("c", "Reuters")]
    note = filter_note(Filters(sources=("Axios",)), records)
    assert note == "Only articles from Axios were searched: 1 of 3 articles."
    assert filter_note(None, records) is None


def test_an_llm_answer_replaced_by_a_quotation_is_said_in_plain_words():
    notes = answer_notes(answer(fallback_reason="the answer cites no passage"), date(2026, 1, 25))
    assert notes == [LLM_REPLACED] and "cites no passage" not in " ".join(notes)


def test_conversations_are_saved_listed_switched_and_deleted():
    store = conversations.empty()
    first = answer(question="When are the next talks?")
    store = conversations.save_turn(store, ["m1", "m2"], [{"role": "user", "content": "q"}], conversations.turn_record(first, [], "February 1"))
    first_id = store["current"]
    store = conversations.start_new(store)
    store = conversations.save_turn(store, ["m3"], [], conversations.turn_record(answer(question="Who led?"), [], "Kostyukov"))
    assert [title for title, _ in conversations.choices(store)] == ["Who led?", "When are the next talks?"]
    store = conversations.select(store, first_id)
    assert conversations.current(store)["messages"] == ["m1", "m2"]
    store = conversations.delete_current(store)
    assert [title for title, _ in conversations.choices(store)] == ["Who led?"] and store["current"] != first_id
    assert conversations.valid("garbage") == conversations.empty()


def test_conversations_are_bounded():
    store = conversations.empty()
    for i in range(conversations.MAX_CHATS + 5):
        store = conversations.start_new(store)
        store = conversations.save_turn(store, [], [], conversations.turn_record(answer(question=f"q{i}"), [], ""))
    assert len(store["chats"]) == conversations.MAX_CHATS
    for _ in range(conversations.MAX_TURNS + 5):
        store = conversations.save_turn(store, [], [], conversations.turn_record(answer(), [], ""))
    assert len(conversations.current(store)["turns"]) == conversations.MAX_TURNS


def test_markdown_export_has_questions_answers_notes_and_sources():
    store = conversations.save_turn(
        conversations.empty(), [], [],
        conversations.turn_record(answer(question="When are the next talks?"), ["A note."], "February 1"),
    )
    markdown = conversations.to_markdown(conversations.current(store))
    assert "## When are the next talks?" in markdown and "**February 1**" in markdown
    assert SENTENCE in markdown and "*A note.*" in markdown
    assert "1. <i>Talks</i> — Axios & co — 2026-01-24: “" + SENTENCE + "”" in markdown


def test_the_reader_highlights_every_cited_sentence_and_escapes_the_rest():
    text = "One <b>two</b>. Three four. Five six."
    html = cards.reader_html("T", "S", date(2026, 1, 1), "javascript:alert(1)", text, [(16, 27), (0, 15)])
    assert "<mark>One &lt;b&gt;two&lt;/b&gt;.</mark> <mark>Three four.</mark> Five six." in html
    assert "javascript:" not in html  # only http(s) links are shown as links
    long = "x" * (cards.READER_MAX_CHARS * 2) + " cited. " + "y" * 100
    start = long.index("cited.")
    html = cards.reader_html("T", "", None, "", long, [(start, start + 6)])
    assert "<mark>cited.</mark>" in html and "An excerpt of" in html


def test_without_a_short_answer_the_cited_sentence_stands_alone():
    html = cards.answer_html(answer(text=SENTENCE + " More followed."))
    assert "<strong>" not in html and 'class="qa-short"' not in html
    assert cards.short_text(answer()) == ""


def test_ask_reports_its_steps_in_order(seed_bot):
    steps: list[str] = []
    result = seed_bot.ask("When are the next talks?", asked_on=SEED_ASKED_ON, on_progress=steps.append)
    assert "February 1" in result.text
    read = min(seed_bot.settings.tuning.evidence_pool, seed_bot.count_chunks())  # the pool, or every passage
    assert steps == ["Searching 1 article…", f"Reading {read} passages…", "Choosing the sentences to cite…"]


def test_a_marker_naming_two_passages_links_each():
    html = cards._badges("Both say so [1, 3].", "k")
    assert 'href="#k-1"' in html and 'href="#k-3"' in html and "[1, 3]" not in html
