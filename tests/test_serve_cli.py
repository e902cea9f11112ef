"""`qa-bot serve` on a busy port, and counts that read as English."""

from __future__ import annotations

import socket
import subprocess
import sys

from conftest import ROOT

from qa_bot.types import IngestReport, plural


def test_a_busy_port_is_one_sentence_before_anything_claims_to_serve(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "qa_bot.cli", "serve", "--port", str(port), "--index", str(tmp_path / "i"),
             "--ingest-if-empty", str(ROOT / "seeds")],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Cannot serve on 127.0.0.1:") and f"PORT={port + 1}" in lines[0]
    assert "chat on" not in result.stderr and "Errno" not in result.stderr
    assert not (tmp_path / "i").exists()  # nothing was indexed for a server that cannot start


def test_counts_read_as_english():
    assert plural(1, "article") == "1 article" and plural(0, "chunk") == "0 chunks" and plural(1200, "chunk") == "1,200 chunks"
    report = IngestReport(added=["a"], total_articles=1, total_chunks=17)
    assert report.summary().endswith("index holds 1 article in 17 chunks")
