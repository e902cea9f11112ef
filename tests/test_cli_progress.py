"""`qa-bot chat --answerer llm` no longer sits silent while the language model loads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.llm


def test_chat_says_it_is_loading_the_language_model_and_how_long_it_took(seed_index):
    pytest.importorskip("transformers")
    result = subprocess.run(
        [sys.executable, "-m", "qa_bot.cli", "chat", "--answerer", "llm", "--index", str(seed_index)],
        input="When are the next talks?\n\n", cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    loading = [i for i, line in enumerate(lines) if line.startswith("Loading the language model")]
    took = [i for i, line in enumerate(lines) if line.startswith("(loaded and answered in ") and line.endswith(" s)")]
    assert loading and took and loading[0] < took[0], result.stderr
    assert "[1]" in result.stdout or "do not answer" in result.stdout  # an answer was printed after it
