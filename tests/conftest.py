"""Shared fixtures: real Chroma, the real packaged embedding model, the real seed article."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
SEED_DOC = "000_c9922a98c24bf2ee"
SEED_ASKED_ON = "2026-01-25"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Tests never read or write the user's embedding cache."""
    os.environ["QA_BOT_CACHE_DIR"] = str(tmp_path_factory.mktemp("embedding-cache"))
    os.environ.pop("QA_BOT_INDEX_DIR", None)
    os.environ.pop("QA_BOT_CHROMA_URL", None)
    os.environ.pop("QA_BOT_AUTH", None)  # servers under test start without a login unless a test sets one
    yield


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """An index holding the seed article, built once per session; tests copy it before writing."""
    from qa_bot import QABot

    index = tmp_path_factory.mktemp("seed-index")
    QABot(index_dir=index).ingest([SEEDS])
    return index


@pytest.fixture(scope="session")
def seed_bot(seed_index):
    """A read-only bot over the seed article (tests that write use `fresh_bot`)."""
    from qa_bot import QABot

    return QABot(index_dir=seed_index)


@pytest.fixture
def fresh_bot(tmp_path):
    from qa_bot import QABot

    return QABot(index_dir=tmp_path / "index")


@pytest.fixture
def seed_copy(seed_index, tmp_path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(seed_index, target)
    return target


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
