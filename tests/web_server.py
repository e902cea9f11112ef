"""Starts the real `qa-bot serve` in a subprocess on a free loopback port, for the web tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(
    index: Path, log: Path, timeout: float = 120.0, args: Sequence[str] = (), headers: dict | None = None
) -> Iterator[str]:
    """Yields the base URL once /v1/models answers (sent `headers`, for a server started with
    `--auth`); extra `args` go to `qa-bot serve`. The server is stopped afterwards."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa_bot.cli", "serve", "--port", str(port), "--index", str(index), *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"qa-bot serve exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/v1/models", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"qa-bot serve did not start in {timeout:.0f} s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        stop(proc)


@contextmanager
def seed_server(seed_index: Path, workdir: Path, **options) -> Iterator[tuple[str, Path]]:
    """A server over a private copy of the seed index, which the test may add to and remove from."""
    index = workdir / "index"
    shutil.copytree(seed_index, index)
    with running_server(index, workdir / "server.log", **options) as url:
        yield url, index


@contextmanager
def in_process_client(seed_index: Path, workdir: Path):
    """The real app (page and /v1) over a private copy of the seed index, driven in-process by
    starlette's test client: fast enough for thousands of requests. Server errors come back as
    responses (500s), so a test can assert there are none."""
    from starlette.testclient import TestClient

    from qa_bot import QABot
    from qa_bot.web.server import create_app

    index = workdir / "index"
    shutil.copytree(seed_index, index)
    with TestClient(create_app(QABot(index_dir=index)), raise_server_exceptions=False) as client:
        yield client


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate, then kill if it does not go."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
