"""Chunks left by an interrupted ingest are never retrieved: an article counts once registered."""

from qa_bot.ingest.chunking import chunk_article, indexed_text
from qa_bot.ingest.loaders import make_article

from conftest import SEEDS


def test_unregistered_chunks_are_not_retrieved(fresh_bot):
    fresh_bot.ingest([SEEDS])
    orphan = make_article("orphan", "Zanzibar ferries\nThe Zanzibar ferry timetable changed on Monday for all routes.")
    chunks = chunk_article(orphan, 90)
    vectors = fresh_bot.embedder.encode([indexed_text(c) for c in chunks])
    fresh_bot.store.write_articles([(orphan, chunks, vectors)])
    asked = fresh_bot.ask("When did the Zanzibar ferry timetable change?")
    assert any(p.chunk.doc_id == "orphan" for p in asked.passages)

    # what a kill between the chunk write and the registry write leaves behind
    fresh_bot.store._articles.delete(ids=["orphan"])
    fresh_bot.store._bump()
    asked = fresh_bot.ask("When did the Zanzibar ferry timetable change?")
    assert all(p.chunk.doc_id != "orphan" for p in asked.passages)
    assert asked.passages  # the registered seed article is still searched
