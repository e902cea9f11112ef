"""The one settings object: defaults that work with nothing configured, `QA_BOT_*` env overrides,
and per-call overrides from the CLI and the API."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import Field, field_validator
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
    min_evidence: float = 0.35  # below this the bot says the articles do not answer

    answerer: AnswererKind = AnswererKind.EXTRACTIVE
    llm_backend: LLMBackend = LLMBackend.SMOLLM2
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 120.0

    @field_validator(
        "top_k", "candidates", "chunk_words", "embed_batch_size", "rrf_k",
        "max_chunk_words", "max_chunk_chars", "ingest_batch_chunks", "registry_text_max_chars",
    )
    @classmethod
    def _positive(cls, value: int, info) -> int:
        if value <= 0:
            raise ValueError(f"{info.field_name} must be > 0, got {value}")
        return value

    def with_overrides(self, **overrides) -> "Settings":
        """A copy with the non-None overrides applied (CLI flags and API arguments)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        return Settings.model_validate({**self.model_dump(), **given})
