"""Where chunks live: Chroma for vectors and the article registry, BM25 for words."""

from qa_bot.store.chroma import ArticleRecord, ChromaStore, Filters
from qa_bot.store.lexical import LexicalIndex

__all__ = ["ArticleRecord", "ChromaStore", "Filters", "LexicalIndex"]
