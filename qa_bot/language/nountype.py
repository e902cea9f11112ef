"""Types the noun a "which/what X" question asks about with the embedding model, not a word list:
"port" lies nearest "a place", "agency" nearest "an organization". A noun near none of them, or
near two alike, stays untyped (a noun phrase is then the answer). The same model tells which
phrase of the evidence names a kind of that noun ("cicadas" for "what type of insect")."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from qa_bot.language.profile import AnswerType
from qa_bot.settings import Tuning

# each type as a noun and as the question it answers; a noun's cosine to a type is its best of the two
PROTOTYPES: dict[AnswerType, tuple[str, str]] = {
    AnswerType.PERSON: ("a person", "who is it"),
    AnswerType.ORGANISATION: ("an organization", "a company or group"),
    AnswerType.PLACE: ("a place", "where is it"),
    AnswerType.DATE: ("a date", "when was it"),
    AnswerType.QUANTITY: ("a number", "how much is it"),
}

# a verb whose subject is the asked thing asks a cause when it lies this near causing ("what *caused*
# the outages", "what did officials *blame* them on"); not "what *led* to", nor "what did they *say*"
CAUSING = ("a cause", "the reason")
_PROTOTYPE_PHRASES = tuple(p for pair in PROTOTYPES.values() for p in pair)

Encode = Callable[[Sequence[str]], np.ndarray]


class NounTyper:
    """`typer(lemma) -> AnswerType | None`, remembering every noun it has typed; `typer.causal(verb)`."""

    def __init__(
        self, encode: Encode, min_cosine: float, min_margin: float, kin_margin: float = 1.0, kin_candidates: int = 0,
        cause_min_cosine: float = 1.0,
    ):
        self._encode = encode
        self.min_cosine = min_cosine
        self.min_margin = min_margin
        self.kin_margin = kin_margin
        self.kin_candidates = kin_candidates
        self.cause_min_cosine = cause_min_cosine
        self._phrases: dict[tuple[str, ...], np.ndarray] = {}  # each set of reference phrases, encoded once
        self._seen: dict[str, AnswerType | None] = {}
        self._seen_verbs: dict[str, bool] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_tuning(cls, encode: Encode, tuning: Tuning) -> "NounTyper":
        """The typer with the thresholds chosen on the tune halves."""
        return cls(
            encode, tuning.type_min_cosine, tuning.type_min_margin, tuning.kin_margin, tuning.kin_candidates,
            tuning.cause_min_cosine,
        )

    def __call__(self, noun: str) -> AnswerType | None:
        if noun in self._seen:
            return self._seen[noun]
        cosines = self._cosines(noun, _PROTOTYPE_PHRASES).reshape(len(PROTOTYPES), 2).max(axis=1)
        order = np.argsort(-cosines)
        best, second = float(cosines[order[0]]), float(cosines[order[1]])
        kind = list(PROTOTYPES)[order[0]] if best >= self.min_cosine and best - second >= self.min_margin else None
        self._seen[noun] = kind
        return kind

    def causal(self, verb: str) -> bool:
        """Whether the verb names a causing: its cosine to `CAUSING` reaches `cause_min_cosine`."""
        if verb not in self._seen_verbs:
            self._seen_verbs[verb] = bool(self._cosines(verb, CAUSING).max() >= self.cause_min_cosine)
        return self._seen_verbs[verb]

    def _cosines(self, word: str, phrases: tuple[str, ...]) -> np.ndarray:
        """The word's cosine to each of `phrases`, which are encoded once per typer."""
        with self._lock:
            if phrases not in self._phrases:
                self._phrases[phrases] = _unit(self._encode(list(phrases)))
        return self._phrases[phrases] @ _unit(self._encode([word]))[0]

    def kin(self, noun: str, phrases: Sequence[str]) -> int:
        """Which of `phrases`, best first by the parse, names a kind of `noun` ("cicadas" for "what
        type of *insect*", "the heart" for "what *organ*"): the first, unless one of the first
        `kin_candidates` lies nearer the noun, by the embedding model, by `kin_margin` or more."""
        shown = list(phrases[: self.kin_candidates])
        if len(shown) < 2:
            return 0
        vectors = _unit(self._encode([noun, *shown]))
        cosines = vectors[1:] @ vectors[0]
        best = int(np.argmax(cosines))
        return best if cosines[best] - cosines[0] >= self.kin_margin else 0


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9)
