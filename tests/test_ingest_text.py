from datetime import date

import pytest

from qa_bot.ingest.chunking import chunk_article
from qa_bot.ingest.dates import find_dates
from qa_bot.ingest.loaders import make_article
from qa_bot.ingest.sentences import sentence_spans

from conftest import SEEDS


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("   \n  ", []),
        ("One sentence without a stop", ["One sentence without a stop"]),
        (
            "Gov. Gladkov said the U.S. Army left. Then John F. Kennedy spoke! \"Yes,\" he said.",
            ["Gov. Gladkov said the U.S. Army left.", "Then John F. Kennedy spoke!", '"Yes," he said.'],
        ),
        ("It cost $3.5 million. Talks resume Feb. 1 in Abu Dhabi.", ["It cost $3.5 million.", "Talks resume Feb. 1 in Abu Dhabi."]),
        ("Headline\nFirst line of body. Second.", ["Headline", "First line of body.", "Second."]),
    ],
)
def test_sentence_spans(text, expected):
    assert [text[s:e] for s, e in sentence_spans(text)] == expected


def test_chunks_keep_offsets_and_whole_sentences():
    text = (SEEDS / "000_c9922a98c24bf2ee.txt").read_text(encoding="utf-8")
    article = make_article("seed", text)
    chunks = chunk_article(article, chunk_words=60)
    assert len(chunks) > 10
    sentence_starts = {s for s, _ in sentence_spans(text)}
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.start in sentence_starts  # never starts mid-sentence
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert chunks == chunk_article(article, chunk_words=60)  # deterministic ids and bounds


def test_chunk_budget_is_respected_except_for_single_long_sentences():
    long_sentence = "Long " + " ".join(["word"] * 119) + "."
    article = make_article("a", f"Short one. {long_sentence} Another short one. And one more.")
    chunks = chunk_article(article, chunk_words=20)
    assert [len(c.text.split()) for c in chunks] == [2, 120, 6]
    with pytest.raises(ValueError, match="chunk_words must be > 0"):
        chunk_article(article, chunk_words=0)


def test_find_dates_resolves_missing_years_against_the_reference():
    text = "New meetings are slated for February 1 in Abu Dhabi, after talks on January 24, 2026."
    assert find_dates(text, date(2026, 1, 25)) == [date(2026, 1, 24), date(2026, 2, 1)]
    assert find_dates("Due on 3 March.", date(2025, 12, 20)) == [date(2026, 3, 3)]
    assert find_dates("Published 2025-07-04.", None) == [date(2025, 7, 4)]
    assert find_dates("February 30 never comes.", date(2026, 1, 1)) == []
    assert find_dates("No dates here.", date(2026, 1, 1)) == []
