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
    # abstain when the question names a year, number or name that no cited passage, title or date carries
    constraint_abstention: bool = True
    # ... for questions of at most this many content words: a long, many-part question ("which company,
    # reported by TechCrunch in 2023, …") is answered a part at a time, one passage carrying one part
    constraint_max_terms: int = 10
    # a typed question ("who", "when", "how many") whose cited sentence holds no span of that type is
    # refused when its evidence score is under this (0: never); see docs/BENCHMARKS.md for what was tried
    type_abstention_below: float = 0.0
    # evidence and boosts type the question from its profile (spaCy + embedding model) instead of the
    # regexes of retrieve/question.py; off: it lost squad2 hit@1 on both halves (docs/BENCHMARKS.md)
    profile_typing: bool = False


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
    top_k: int = 5
    candidates: int = 30  # depth of each retriever before fusion
    rrf_k: int = 60
    min_evidence: float = 0.35  # below this the bot says the articles do not answer

    tuning: Tuning = Field(default_factory=Tuning)

    answerer: AnswererKind = AnswererKind.EXTRACTIVE
    llm_backend: LLMBackend = LLMBackend.SMOLLM2
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 120.0

    @field_validator("top_k", "candidates", "chunk_words", "embed_batch_size", "rrf_k")
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
