"""The one settings object: defaults that work with nothing configured, `QA_BOT_*` env overrides,
and per-call overrides from the CLI and the API."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qa_bot.errors import InputError


class ChoiceEnum(str, Enum):
    @classmethod
    def from_str(cls, value: str) -> "ChoiceEnum":
        try:
            return cls(value.strip().lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise InputError(f"Unknown {cls.label()} '{value}'; choose one of: {valid}.") from None

    @classmethod
    def label(cls) -> str:
        return cls.__name__.lower()


class AnswererKind(ChoiceEnum):
    EXTRACTIVE = "extractive"
    LLM = "llm"


class LLMBackend(ChoiceEnum):
    SMOLLM2 = "smollm2"
    OPENAI_LIKE = "openai-like"
    OLLAMA = "ollama"


class Precision(ChoiceEnum):
    AUTO = "auto"
    BF16 = "bf16"
    FP32 = "fp32"


class Tuning(BaseModel):
    """Constants chosen on the `tune` half of the dev sets (docs/BENCHMARKS.md); eval writes them
    into its metrics so a row can be reproduced. Override with QA_BOT_TUNING='{"key": value}'."""

    # a "which X" noun is typed when its cosine to a type's prototype reaches this, ahead of the next by the margin
    type_min_cosine: float = 0.40
    type_min_margin: float = 0.05
    # "what caused …", "what did they blame … on": the verb the wh-word is the subject of (or the
    # object of its stranded preposition) asks a cause when its cosine to "a cause"/"the reason" reaches this
    cause_min_cosine: float = 0.5
    # abstain when the question names a year, number or name that no cited passage, title or date carries
    constraint_abstention: bool = True
    # ... for questions of at most this many content words: a long, many-part question ("which company,
    # reported by TechCrunch in 2023, …") is answered a part at a time, one passage carrying one part
    constraint_max_terms: int = 10
    # ... and when the cited sentence says another one of what the question asks about ("the severe
    # drought" for "the mild drought"), for the same questions
    modifier_abstention: bool = True
    # a typed question ("who", "when", "how many") whose cited sentence holds no span of that type is
    # refused when its evidence score is under this (0: never); see docs/BENCHMARKS.md for what was tried
    type_abstention_below: float = 0.0
    # "which/what X": a phrase among the parse's first `kin_candidates` whose embedding lies nearer X than
    # the first one's by `kin_margin` answers instead ("cicadas" for "what type of insect"); 1.0: never
    kin_margin: float = 0.2
    kin_candidates: int = 5
    # short answers (language/spans.py): the weight of each feature of a candidate phrase, fitted on
    # the tune halves by benchmarks/fit_short_answers.py; the best-scored phrase answers
    span_weights: dict[str, float] = Field(default_factory=lambda: {
        "second_label": -0.809,
        "any_phrase": -1.768,
        "holds_head": 0.741,
        "head_steps": -0.672,
        "by_head": 0.575,
        "verb_steps": -0.269,
        "anchor_steps": -1.003,
        "gap": -1.057,
        "role_mismatch": -0.458,
        "subject": 0.099,
        "object": 0.071,
        "length": -0.102,
        "named_share": -0.509,
        "before_verb": -0.128,
        "proper": 0.376,
        "entity": -0.202,
        "apposition": 0.224,
        "tree_first": 0.551,
        "same_prep": 1.27,
    })
    # a name counts as carried by a passage word sharing its first letters ("Ukrain-e/-ian", "Russi-a/-an")
    name_stem_letters: int = 5
    # a negated question ("what is *not* …") whose cited sentence negates nothing is refused when its
    # evidence score is under this (0: never; 0.4-1.0 tried on tune, docs/BENCHMARKS.md)
    polarity_min_support: float = 0.7

    # retrieval boosts (retrieve/boosts.py): relative bonus for a passage holding the kind of thing
    # asked for, and for an article published the day of the question, halving every half-life
    type_boost: float = 0.15
    recency_boost: float = 0.3
    recency_half_life_days: float = 7.0
    # fused passages whose sentences are read; the best of them are shown and cited. Chosen on the
    # realtimeqa tune half (5,386 articles; the other dev corpora are too small to tell): 12 / 16 /
    # 20 / 30 give hit@1 0.406 / 0.416 / 0.426 / 0.416; check 0.455 -> 0.465 at 20
    evidence_pool: int = 20
    # evidence sentences (answer/select.py): a sentence's score weighs its cosine to the question,
    # its IDF-weighted share of the question's words, holding the asked kind of thing and, for
    # "next"/"latest", nearness to the date pointed at; ranking also trusts the passage's fusion score
    w_dense: float = 0.45
    w_lexical: float = 0.45
    w_type: float = 0.10
    w_temporal: float = 0.25
    w_retrieval: float = 0.1
    context_share: float = 0.5  # how much the previous sentence's words count: it often names the topic
    off_topic: float = 0.8  # factor when a noun of the question occurs nowhere in the index
    # factors for what rarely answers: "when" without a date, "how many" without a number, "why"
    # without a cause; a numeral of the question missing; a negated question, a sentence negating
    # nothing (on squad2 dev the last two flagged 30 unanswerable questions for 4 answerable ones).
    # type_mismatch was 0.6 for the regex typer; with the profile's types 0.7 (0.5-0.8 tried on tune)
    type_mismatch: float = 0.7
    # ... and for a sentence naming no date when a "next"/"latest" question points at a dated event
    # ("where are the *next* talks?"); the 0.6 both had before the profile typed
    undated_mismatch: float = 0.6
    number_mismatch: float = 0.5
    negation_mismatch: float = 0.75
    # sentences read on their own per question (~4 ms each; 8 gained multihop hit@1 0.009)
    rescore: int = 5
    # of those, only the ones whose score is within this of the best: 0.075-0.15 change no dev figure,
    # 0.05 one multihop tune question, 0.025 loses seed hit@1 (docs/BENCHMARKS.md)
    rescore_margin: float = 0.1
    # the abstention scale: a question of more content words than this is never covered by one
    # sentence, so its score is scaled up; a passage under this cosine to the question answers only
    # through a sentence that scores `off_passage_scale` times more (0.35 / 0.40)
    long_question_terms: int = 6
    min_passage_cosine: float = 0.37
    off_passage_scale: float = 0.875
    # what the LLM answerer shows the model: a small model picks the answer out of a short prompt far
    # better than out of a long one; a second passage only when its evidence is about as good; a
    # yes/no question often compares what several articles say, so it sees more
    llm_max_passages: int = 2
    llm_sentences_per_passage: int = 1
    llm_second_passage_margin: float = 0.05
    llm_max_passages_yes_no: int = 3
    llm_sentences_per_passage_yes_no: int = 2
    # citation checking (answer/verify.py): share of a claim's content words its cited passages must
    # hold (a longer claim may rephrase one word in four), and of a yes/no question's key words (on
    # multihop dev questions: answerable 0.3-0.8, unanswerable 0.1-0.3)
    min_claim_coverage: float = 0.75
    min_question_coverage: float = 0.3
    # the LLM's follow-up rewrite (chat/llm_condense.py): the turns it sees, its longest rewrite, and
    # the share of the follow-up's own content words it must keep
    condense_history_turns: int = 4
    condense_max_words: int = 40
    condense_min_kept: float = 0.75


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "qa-bot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_BOT_", extra="ignore")

    index_dir: Path = Path("index")
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 switches to a Chroma server
    collection: str = "qa_bot"
    cache_dir: Path = Field(default_factory=_default_cache_dir)

    embed_model: str | None = None  # None: the packaged all-MiniLM-L6-v2
    precision: Precision = Precision.AUTO
    embed_batch_size: int = 64
    # the most tokens (texts x the longest, padding included) one onnxruntime run encodes: its
    # arena keeps the biggest run's activations for the process's life (64 passages: over 1 GB;
    # 20 one-article ingests: +230 MB unbounded, +50 MB at 1024, no slower)
    onnx_batch_tokens: int = 1024
    # calls of up to this many texts are encoded by the model's ONNX twin, bigger ones by torch (bf16
    # is ~1.4x onnxruntime's fp32 on 80 passages, slower on 20): one article as a feed delivers it
    # (realtimeqa's longest are ~80 passages) never loads torch, whose model costs a process ~300 MB
    onnx_max_texts: int = 128

    chunk_words: int = 90  # a passage is whole sentences up to about this many words
    # the hard ceiling of a passage, whatever the punctuation: a run of text longer than this
    # without a sentence end is cut at word boundaries (a longer "word" inside it) into pieces of
    # `chunk_words`, so no passage, and no sentence an answer quotes from one, is bigger
    max_chunk_words: int = 150
    max_chunk_chars: int = 2000
    # text with more control characters than this share is refused as binary (random bytes ~12%)
    max_control_share: float = 0.05
    # an article longer than this is not kept whole in the registry (its chunks hold its text)
    registry_text_max_chars: int = 1_000_000
    ingest_batch_chunks: int = 512  # chunks embedded and written together; bounds ingest memory
    top_k: int = 5
    candidates: int = 30  # depth of each retriever before fusion
    rrf_k: int = 60
    # a lexical index catching up re-reads the change log this far back before the last record it
    # applied: writers on other machines may log out of order by up to their clocks' disagreement
    lexical_log_window_s: float = 300.0
    # change log records older than this are deleted by the next write; a lexical index that fell
    # further behind (a machine off for longer) is built again whole instead of caught up
    lexical_log_keep_days: float = Field(30.0, gt=0)
    # the most chunks one lexical search scores (rarest query words first): bounds its time at a
    # million chunks; an index smaller than this ranks by exact BM25
    lexical_max_postings: int = 10_000
    # the most of the lexical file a process maps into memory. Mapped pages count in its RSS (at
    # a million chunks the whole ~650 MB file ends up mapped); read with pread they stay in the OS
    # page cache, ~1-2 ms slower a search at 100k chunks (docs/SCALING.md)
    lexical_mmap_mb: int = 0
    min_evidence: float = 0.35  # below this the bot says the articles do not answer

    # one request budget for every surface (API, CLI, page, /v1), enforced in QABot.ask
    max_question_chars: int = 2000
    max_history_turns: int = 20  # older turns are dropped first
    max_history_chars: int = 8000
    max_top_k: int = 50

    # fetching articles and feeds from the web
    fetch_timeout: float = 20.0  # seconds per request
    fetch_max_mb: float = 20.0  # per page, PDF or feed
    fetch_max_redirects: int = 5
    fetch_host_delay: float = 1.0  # seconds between two requests to one host
    fetch_private_hosts: bool = False  # may the web page add links into private networks (the CLI always may)

    # articles added from the web page
    upload_max_mb: float = 5.0  # per file
    upload_quota_mb: float = 200.0  # all uploads of an index together
    upload_keep_seconds: float = 600.0  # an upload nobody added by then is deleted

    # /v1: the most a request body may hold, and the other sites' pages that may read answers
    # (never with cookies or a login); none by default
    api_max_body_mb: float = 1.0
    cors_origins: list[str] = []

    tuning: Tuning = Field(default_factory=Tuning)

    answerer: AnswererKind = AnswererKind.EXTRACTIVE
    llm_backend: LLMBackend = LLMBackend.SMOLLM2
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 120.0

    @field_validator(
        "top_k", "candidates", "chunk_words", "embed_batch_size", "onnx_batch_tokens", "onnx_max_texts", "rrf_k",
        "max_question_chars", "max_history_turns", "max_history_chars", "max_top_k",
        "upload_max_mb", "upload_quota_mb", "upload_keep_seconds", "api_max_body_mb", "fetch_timeout", "fetch_max_mb",
        "max_chunk_words", "max_chunk_chars", "ingest_batch_chunks", "registry_text_max_chars", "lexical_max_postings",
    )
    @classmethod
    def _positive(cls, value: float, info) -> float:
        if value <= 0:
            raise ValueError(f"{info.field_name} must be > 0, got {value}")
        return value

    @field_validator("lexical_mmap_mb")
    @classmethod
    def _not_negative(cls, value: int, info) -> int:
        if value < 0:
            raise ValueError(f"{info.field_name} must be >= 0, got {value}")
        return value

    def with_overrides(self, **overrides) -> "Settings":
        """A copy with the non-None overrides applied (CLI flags and API arguments)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        return Settings.model_validate({**self.model_dump(), **given})
