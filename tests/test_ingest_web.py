"""Articles from the web, served by a loopback HTTP server this test starts (nothing leaves the
machine): an RSS feed of three entries (two pages and a two-page PDF), `--follow` picking up a
fourth, a Word document, and the bounds on every fetch."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ROOT, write

from qa_bot.errors import InputError
from qa_bot.ingest.fetch import Fetcher

PAGES = {
    "/news/ferry.html": (
        "Ferry strike ends in Portmere",
        "The Portmere ferry strike ended on Friday after nine days, the harbour authority said. "
        "Union leader Mara Quill said crews would return on Monday.",
    ),
    "/news/bridge.html": (
        "Glass bridge opens in Quillton",
        "The glass bridge in Quillton opened on Tuesday. It cost 4 million dollars and took two years to build.",
    ),
    "/news/lanterns.html": (
        "Lantern festival returns",
        "The Portmere lantern festival returns on 14 March with 3,000 paper lanterns.",
    ),
}
PDF_PAGE_2 = "The harbour authority expects 18,000 visitors at the spring fair on the old quay."


def _html(title: str, text: str) -> bytes:
    return (
        f"<html><head><title>{title}</title><meta property='og:site_name' content='Portmere Post'>"
        f"<meta name='date' content='2026-01-20'></head><body><article><h1>{title}</h1>"
        f"<p>{text}</p></article></body></html>"
    ).encode()


def _pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Harbour authority annual report")
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Harbour authority annual report. The harbour handled 2,100 ships last year.")
    pdf.add_page()
    pdf.multi_cell(0, 8, PDF_PAGE_2)
    return bytes(pdf.output())


def _feed(links: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{{base}}{link}</link>"
        f"<pubDate>{formatdate(1768900000 + i * 3600, usegmt=True)}</pubDate></item>"
        for i, (link, title) in enumerate(links)
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Portmere Post</title>{items}</channel></rss>".encode()


class Site:
    """The loopback site: its pages, and a log of the paths asked for."""

    def __init__(self):
        self.routes: dict[str, tuple[str, bytes]] = {p: ("text/html; charset=utf-8", _html(*v)) for p, v in PAGES.items()}
        self.routes["/reports/annual.pdf"] = ("application/pdf", _pdf())
        self.feed_links = [("/news/ferry.html", "Ferry strike ends"), ("/news/bridge.html", "Glass bridge opens"),
                           ("/reports/annual.pdf", "Annual report")]
        self.feed_version = 1
        self.requests: list[tuple[str, int]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path == "/feed.xml":
                    etag = f'"v{site.feed_version}"'
                    if self.headers.get("If-None-Match") == etag:
                        site.requests.append((self.path, 304))
                        self.send_response(304)
                        self.end_headers()
                        return
                    body = _feed(site.feed_links).replace(b"{base}", site.base.encode())
                    kind = "application/rss+xml"
                    headers = {"ETag": etag}
                elif self.path == "/loop":
                    site.requests.append((self.path, 302))
                    self.send_response(302)
                    self.send_header("Location", "/loop")
                    self.end_headers()
                    return
                elif self.path == "/huge":
                    kind, body, headers = "text/html", b"x" * (3 * 2**20), {}
                elif self.path in site.routes:
                    kind, body = site.routes[self.path]
                    headers = {}
                else:
                    site.requests.append((self.path, 404))
                    self.send_error(404)
                    return
                site.requests.append((self.path, 200))
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def site():
    served = Site()
    yield served
    served.server.shutdown()


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa_bot.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**__import__("os").environ, "QA_BOT_FETCH_HOST_DELAY": "0"},
    )


def test_a_feed_is_indexed_once_followed_and_answered_with_pdf_pages(site, tmp_path):
    from qa_bot import QABot

    index = str(tmp_path / "index")
    first = _cli("ingest", f"{site.base}/feed.xml", "--index", index)
    assert first.returncode == 0, first.stderr
    assert "3 added" in first.stdout
    bot = QABot(index_dir=index)
    records = {r.url: r for r in bot.articles()}
    assert set(records) == {f"{site.base}{link}" for link, _ in site.feed_links}
    assert records[f"{site.base}/news/ferry.html"].title == "Ferry strike ends in Portmere"
    assert records[f"{site.base}/reports/annual.pdf"].title == "Harbour authority annual report"
    assert all(r.published for r in records.values())

    fetched_before = len(site.requests)
    second = _cli("ingest", f"{site.base}/feed.xml", "--index", index)
    assert second.returncode == 0 and "0 added" in second.stdout, second.stdout + second.stderr
    assert [path for path, _ in site.requests[fetched_before:]] == ["/feed.xml"]  # no entry fetched again

    site.feed_links.append(("/news/lanterns.html", "Lantern festival returns"))
    site.feed_version = 2
    follow = subprocess.Popen(
        [sys.executable, "-m", "qa_bot.cli", "ingest", f"{site.base}/feed.xml", "--index", index, "--follow", "--every", "1s"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**__import__("os").environ, "QA_BOT_FETCH_HOST_DELAY": "0"},
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and f"{site.base}/news/lanterns.html" not in {r.url for r in QABot(index_dir=index).articles()}:
            time.sleep(1)
    finally:
        follow.terminate()
        follow.wait(timeout=30)
    bot = QABot(index_dir=index)
    assert len(bot.articles()) == 4

    for question, words, url in [
        ("When did the Portmere ferry strike end?", "Friday", "/news/ferry.html"),
        ("How much did the glass bridge in Quillton cost?", "4 million", "/news/bridge.html"),
        ("How many lanterns will the festival have?", "3,000", "/news/lanterns.html"),
        ("How many visitors does the harbour authority expect at the spring fair?", "18,000", "/reports/annual.pdf"),
    ]:
        answer = bot.ask(question, asked_on="2026-01-25")
        assert words in answer.text and not answer.abstained, (question, answer.text)
        cited = answer.citations[0]
        assert records.get(f"{site.base}{url}", None) is None or cited.doc_id == records[f"{site.base}{url}"].doc_id
        if url.endswith(".pdf"):
            assert cited.page == 2 and cited.to_dict()["page"] == 2


def test_a_broken_entry_is_skipped_and_the_rest_indexed(site, tmp_path):
    site.feed_links.insert(1, ("/news/gone.html", "Gone"))
    result = _cli("ingest", f"{site.base}/feed.xml", "--index", str(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    assert "3 added" in result.stdout
    assert "skipped:" in result.stderr and "gone.html" in result.stderr and "404" in result.stderr


@pytest.mark.parametrize("path, words", [("/missing", "HTTP 404"), ("/loop", "redirects more than")])
def test_an_unusable_address_on_the_command_line_is_one_sentence(site, tmp_path, path, words):
    result = _cli("ingest", f"{site.base}{path}", "--index", str(tmp_path / "index"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and words in lines[0], result.stderr


def test_fetches_are_bounded(site):
    fetcher = Fetcher(timeout=5, max_bytes=2**20, host_delay=0)
    with pytest.raises(InputError, match="limit"):
        fetcher.get(f"{site.base}/huge")
    with pytest.raises(InputError, match="not an http"):
        fetcher.get("file:///etc/passwd")
    with pytest.raises(InputError, match="redirects more than"):
        fetcher.get(f"{site.base}/loop")
    timed = Fetcher(timeout=5, host_delay=0.5)
    started = time.monotonic()
    for _ in range(3):
        timed.get(f"{site.base}/news/ferry.html")
    assert time.monotonic() - started >= 1.0  # the pause between requests to one host


def test_pdf_and_word_files_on_disk(tmp_path):
    from docx import Document

    from qa_bot import QABot

    document = Document()
    document.core_properties.title = "Council minutes"
    document.add_paragraph("The council approved a new library on the old quay, to open in 2027.")
    buffer = io.BytesIO()
    document.save(buffer)
    folder = tmp_path / "docs"
    write(folder / "placeholder.txt", "Placeholder article about nothing in particular.")
    (folder / "minutes.docx").write_bytes(buffer.getvalue())
    (folder / "report.pdf").write_bytes(_pdf())
    bot = QABot(index_dir=tmp_path / "index")
    report = bot.ingest([folder])
    assert sorted(report.added) == ["minutes", "placeholder", "report"]
    answer = bot.ask("When will the new library open?", asked_on="2026-01-25")
    assert "2027" in answer.text and answer.citations[0].title == "Council minutes"
    answer = bot.ask("How many visitors are expected at the spring fair?", asked_on="2026-01-25")
    assert "18,000" in answer.text and answer.citations[0].page == 2
