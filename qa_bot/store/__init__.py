"""Where chunks live: Chroma for vectors and the article registry, SQLite FTS5 (BM25) for words."""

from qa_bot.store.chroma import ArticleRecord, ChromaStore, Filters
from qa_bot.store.fts import LexicalIndex

__all__ = ["ArticleRecord", "ChromaStore", "Filters", "LexicalIndex"]
