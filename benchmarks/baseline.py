"""The plain llama-index recipe a user would pick instead of qa-bot, scored by the same metrics.

VectorStoreIndex over Chroma, llama-index's default splitter (SentenceSplitter, 1024 tokens, 200
overlap), top-5 retrieval, and the same packaged embedding model at the same precision (through a
small BaseEmbedding adapter over qa_bot.embed.Embedder, which also shares its cache).

Without an LLM a llama-index retriever has no answer text: the baseline's "answer" is its best
passage (what a retriever-only app shows), it cites that passage, and it never abstains. Follow-up
questions are asked as they are: a plain recipe has no rewriting.

    .venv/bin/python benchmarks/baseline.py --corpus ../shared/eval/seed/corpus.jsonl \
        --questions ../shared/eval/seed/questions.jsonl        # prints one JSON line
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from qa_bot.embed import Embedder
from qa_bot.evaluate.gold import GoldQuestion, read_questions
from qa_bot.evaluate.metrics import Passage, Prediction, summarize
from qa_bot.evaluate.runner import EvalRun, score_all
from qa_bot.ingest.loaders import iter_jsonl
from qa_bot.settings import Settings

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

TOP_K = 5


class QABotEmbedding(BaseEmbedding):
    """llama-index's embedding interface over qa-bot's Embedder: same model, precision and cache."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs):
        super().__init__(model_name=embedder.model_name, embed_batch_size=64, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.encode([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.encode([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.encode(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


def load_documents(corpus: Path) -> list:
    from llama_index.core import Document

    docs = []
    for _, record in iter_jsonl(corpus):
        meta = {k: str(record.get(k) or "") for k in ("title", "source", "published") if record.get(k)}
        docs.append(Document(text=str(record["text"]), id_=str(record["id"]), metadata=meta))
    return docs


def evaluate_baseline(
    corpus: str | Path, questions: str | Path, limit: int | None = None, progress: bool = False
) -> EvalRun:
    """Builds the llama-index index in a temporary Chroma folder and asks every question."""
    import chromadb
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    gold = read_questions(questions)[:limit] if limit else read_questions(questions)
    settings = Settings()
    embed = QABotEmbedding(Embedder(settings.embed_model, settings.precision, settings.embed_batch_size, settings.cache_dir))
    with tempfile.TemporaryDirectory(prefix="llama-baseline-", ignore_cleanup_errors=True) as tmp:
        client = chromadb.PersistentClient(path=tmp)
        store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("baseline"))
        t0 = time.perf_counter()
        index = VectorStoreIndex.from_documents(
            load_documents(Path(corpus)),
            storage_context=StorageContext.from_defaults(vector_store=store),
            embed_model=embed,
            show_progress=progress,
        )
        ingest_s = time.perf_counter() - t0
        retriever = index.as_retriever(similarity_top_k=TOP_K)
        retriever.retrieve(gold[0].question)  # first call pays for loading; not timed

        def ask(q: GoldQuestion) -> Prediction:
            t = time.perf_counter()
            nodes = retriever.retrieve(q.question)
            latency = (time.perf_counter() - t) * 1000
            passages = tuple(
                Passage(n.node.ref_doc_id or "", n.node.get_content(), n.node.node_id, float(n.score or 0.0)) for n in nodes
            )
            return Prediction(
                question_id=q.id,
                answer=passages[0].text if passages else "",
                abstained=not passages,
                cited=passages[:1],
                retrieved=passages,
                latency_ms=latency,
                standalone_question=q.question,
                answerer="llama-index top passage",
            )

        t1 = time.perf_counter()
        results = score_all(gold, ask, progress, desc="baseline")
        meta = {
            "system": "llama-index VectorStoreIndex + Chroma, SentenceSplitter defaults, top-5",
            "corpus": str(corpus),
            "questions": str(questions),
            "answerer": "top passage",
            "limit": limit,
            "ingest": f"{store._collection.count()} nodes",
            "ingest_seconds": round(ingest_s, 1),
            "ask_seconds": round(time.perf_counter() - t1, 1),
        }
    return EvalRun(summarize([r.score for r in results]), results, meta)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--questions", required=True, type=Path)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    run = evaluate_baseline(args.corpus, args.questions, args.limit, progress=sys.stderr.isatty())
    print(json.dumps({"system": "llama-index", **run.meta, "metrics": run.metrics}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
