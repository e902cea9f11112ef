"""Prompt templates, read at run time from the repository's prompts/ folder.

Prompts are plain files so they can be read and changed without touching code. The folder sits
beside the package (`make setup` installs it editable, so that is where it is); a non-editable
install points at a copy with QA_BOT_PROMPTS_DIR.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from qa_bot.errors import InputError

PROMPTS_ENV = "QA_BOT_PROMPTS_DIR"


def prompts_dir() -> Path:
    configured = os.environ.get(PROMPTS_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=32)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def load_prompt(name: str) -> str:
    """The text of prompts/<name>.txt, without its trailing newline."""
    path = prompts_dir() / f"{name}.txt"
    if not path.is_file():
        raise InputError(f"The prompt file {path} is missing; set {PROMPTS_ENV} to the folder holding it.")
    return _read(path)


def render(name: str, **values: str) -> str:
    """The template with `{field}`s filled. Values are inserted as they are, never re-parsed, so
    braces in article text cannot break or steer the template."""
    return load_prompt(name).format_map(values)
