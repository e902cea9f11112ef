"""Loading articles and cutting them into citable chunks."""

from qa_bot.ingest.chunking import chunk_article
from qa_bot.ingest.loaders import check_paths, iter_files, load_file, load_jsonl, suffix_of

__all__ = ["chunk_article", "check_paths", "iter_files", "load_file", "load_jsonl", "suffix_of"]
