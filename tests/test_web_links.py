"""Adding an article by its address from the page, in Chromium against the real server: a PDF
upload and a link are indexed and answered; by default a link into a private network (here the
loopback site itself) is refused, so a page user cannot make the server read its own network."""

from __future__ import annotations

import os

import pytest

from test_ingest_web import PDF_PAGE_2, Site, _pdf  # noqa: F401
from test_web_browser import ANSWER_TIMEOUT, ask, browser, set_asked_on, upload  # noqa: F401  (fixtures reused)
from web_server import seed_server

from qa_bot.errors import InputError
from qa_bot.ingest.fetch import Fetcher

pytestmark = pytest.mark.browser


@pytest.fixture
def site():
    served = Site()
    yield served
    served.server.shutdown()


def _page(browser, url):  # noqa: F811
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    page.locator("#qa-article-list li").first.wait_for(timeout=30_000)
    return page


def _add_link(page, address: str, expect: str) -> str:
    page.locator("#qa-link textarea, #qa-link input").first.fill(address)
    page.locator("#qa-add-link").click()
    status = page.locator("#qa-status", has_text=expect)
    status.wait_for(timeout=ANSWER_TIMEOUT)
    return status.inner_text()


def test_a_private_address_is_refused_from_the_page(browser, site, seed_index, tmp_path):  # noqa: F811
    with seed_server(seed_index, tmp_path) as (url, index):
        page = _page(browser, url)
        message = _add_link(page, f"{site.base}/news/ferry.html", "Nothing added")
        assert "private network" in message
        assert not any(path == "/news/ferry.html" for path, _ in site.requests)  # never fetched
        page.context.close()


def test_links_and_pdfs_are_added_from_the_page(browser, site, seed_index, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("QA_BOT_FETCH_PRIVATE_HOSTS", "true")  # the operator allows the loopback site
    monkeypatch.setenv("QA_BOT_FETCH_HOST_DELAY", "0")
    with seed_server(seed_index, tmp_path) as (url, index):
        page = _page(browser, url)
        assert "1 added" in _add_link(page, f"{site.base}/news/bridge.html", "added")
        page.locator("#qa-article-list li", has_text="Glass bridge opens").wait_for(timeout=30_000)
        upload(page, "annual-report.pdf", _pdf(), "application/pdf")
        page.locator("#qa-article-list li", has_text="Harbour authority annual report").wait_for(timeout=ANSWER_TIMEOUT)
        set_asked_on(page, "2026-01-25")
        reply = ask(page, "How much did the glass bridge in Quillton cost?")
        assert "4 million" in reply.locator(".qa-answer").inner_text()
        reply = ask(page, "How many visitors does the harbour authority expect at the spring fair?")
        assert "18,000" in reply.locator(".qa-answer").inner_text()
        assert "p. 2" in reply.locator(".qa-card .qa-meta").first.inner_text()
        page.context.close()


def test_the_fetcher_refuses_private_hosts_when_asked(site):
    fetcher = Fetcher(timeout=5, host_delay=0)
    with pytest.raises(InputError, match="private network"):
        fetcher.get(f"{site.base}/news/ferry.html", public_only=True)
    assert fetcher.get(f"{site.base}/news/ferry.html").status == 200


def test_a_name_that_resolves_again_to_a_private_host_is_not_read(site, monkeypatch):
    """DNS rebinding: the name first resolves to a public address (the check passes), then to the
    loopback. The fetch connects to the address that was checked, so the loopback page is never
    read (here the public address is unreachable: the machine has no network)."""
    import socket

    real = socket.getaddrinfo
    answers = iter(["1.1.1.1"])

    def rebinding(host, port, *args, **kwargs):
        if host != "news.rebind.test":
            return real(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = site.base.replace("127.0.0.1", "news.rebind.test") + "/news/ferry.html"
    with pytest.raises(InputError) as caught:
        Fetcher(timeout=3, host_delay=0).get(url, public_only=True)
    assert "could not be fetched" in str(caught.value) or "did not answer" in str(caught.value)


def test_a_pinned_request_keeps_the_names_host_and_tls_name():
    from qa_bot.ingest.fetch import _pinned

    assert _pinned("https://news.example:8443/a/b?c=1#d", "93.184.216.34") == (
        "https://93.184.216.34:8443/a/b?c=1#d", {"Host": "news.example:8443"}, {"sni_hostname": "news.example"}
    )
    assert _pinned("http://news.example/x", "2606:4700::1111") == ("http://[2606:4700::1111]/x", {"Host": "news.example"}, {})
