"""Plain data that crosses module boundaries; no behaviour beyond small conveniences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Article:
    """One source document as loaded, before chunking."""

    doc_id: str
    title: str
    text: str
    source: str = ""
    url: str = ""
    published: date | None = None
    path: str = ""  # where it was loaded from; `--sync` uses it to notice deletions
    content_hash: str = ""
    pages: tuple[int, ...] = ()  # where each page starts in `text` (PDFs); passages never cross one


@dataclass(frozen=True)
class Chunk:
    """A citable passage: a few whole sentences with offsets into its article's text."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    title: str = ""
    source: str = ""
    published: date | None = None
    dates: tuple[date, ...] = ()  # dates mentioned in the passage, resolved at ingest
    page: int | None = None  # the page of a paged document (PDF) the passage is on


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from: the passage, and the sentence in it that carries the answer."""

    n: int
    doc_id: str
    title: str
    text: str  # the passage
    start: int  # cited sentence, character offsets into the article text
    end: int
    score: float
    chunk_id: str = ""
    passage_start: int = 0  # the passage's own offsets into the article text
    source: str = ""
    published: date | None = None
    page: int | None = None  # of a PDF: the page the cited sentence is on

    @property
    def sentence(self) -> str:
        return self.text[self.start - self.passage_start : self.end - self.passage_start]

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
            "sentence": self.sentence,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
            "page": self.page,
        }


@dataclass(frozen=True)
class ShortAnswer:
    """The few words that answer (an entity, a date, a number, a noun phrase), found in the cited
    sentence: `start`/`end` are character offsets into that sentence (`Citation.sentence`)."""

    text: str
    start: int
    end: int
    kind: str = ""  # the answer type asked for ("person", "date", "quantity", …)

    def to_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end, "type": self.kind}


@dataclass(frozen=True)
class Answer:
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    question: str = ""
    standalone_question: str = ""  # the follow-up rewritten to stand alone; equals question otherwise
    passages: list[ScoredChunk] = field(default_factory=list)  # everything retrieved, best first
    answerer: str = "extractive"
    fallback_reason: str = ""  # why an LLM answer was replaced by the extractive one, if it was
    evidence_score: float = 0.0
    short_answer: ShortAnswer | None = None  # inside the first citation's sentence; None: the sentence stands alone
    answer_type: str = ""  # what the question asked for ("date", "person", "quantity", …)
    direction: int = 0  # +1: the question looks ahead of the day asked ("next talks"), -1 back

    def to_dict(self) -> dict:
        return {
            "short_answer": self.short_answer.to_dict() if self.short_answer else None,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer_type": self.answer_type,
            "answerer": self.answerer,
            "fallback_reason": self.fallback_reason,
            "evidence_score": round(self.evidence_score, 4),
        }


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: reason" for inputs that were not articles
    chunks_written: int = 0
    total_chunks: int = 0
    total_articles: int = 0

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.deleted)} deleted",
        ]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return (
            ", ".join(parts)
            + f"; index holds {plural(self.total_articles, 'article')} in {plural(self.total_chunks, 'chunk')}"
        )


def plural(count: int, noun: str) -> str:
    """'1 article', '2 articles': counts shown to people read as English."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
