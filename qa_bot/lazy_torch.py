"""torch is imported only by the code that runs on it.

spaCy's thinc imports torch whenever it is installed (~1.3 s and ~200 MB of RSS a process), though
the English pipeline never runs on it; a question answered with the ONNX twin needs no torch at
all. So spaCy is loaded with torch hidden (`import torch` fails while it loads: thinc then records
that there is none), unless this process has already imported it. Whoever runs on torch imports it
through `import_torch`, which waits while it is hidden, so a thread never sees it missing.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

_lock = threading.RLock()


def import_torch() -> ModuleType:
    with _lock:
        import torch

        return torch


@contextmanager
def torch_hidden() -> Iterator[None]:
    """Within: `import torch` raises ImportError, unless torch was already imported."""
    with _lock:
        hide = "torch" not in sys.modules
        if hide:
            sys.modules["torch"] = None  # type: ignore[assignment]  # Python's own "not importable" mark
        try:
            yield
        finally:
            if hide and "torch" in sys.modules and sys.modules["torch"] is None:
                del sys.modules["torch"]
