"""`qa-bot serve --auth USER:PASSWORD` (or $QA_BOT_AUTH): nothing on the server answers without the
login; /v1 takes the password as its API key; the chat's API takes the login via gradio_client."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import httpx
import pytest

from conftest import ROOT, SEED_ASKED_ON
from web_server import seed_server

from qa_bot.errors import InputError
from qa_bot.web.auth import Credentials

USER, PASSWORD = "alice", "correct horse battery staple"
BEARER = {"Authorization": f"Bearer {PASSWORD}"}
NEXT_TALKS = [{"role": "user", "content": "When are the next talks?"}]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_parse_and_check():
    creds = Credentials.parse(f"{USER}:{PASSWORD}")
    assert Credentials.parse("bob:a:b").password == "a:b"  # a colon may be part of the password
    assert creds.accepts(f"Bearer {PASSWORD}") and creds.accepts(_basic(USER, PASSWORD))
    for header in ("", "Bearer", "Bearer wrong", _basic("mallory", PASSWORD), _basic(USER, "wrong"), "Basic %%%", f"Token {PASSWORD}"):
        assert not creds.accepts(header), header
    for bad in ("alice", "alice:", ":secret", ""):
        with pytest.raises(InputError, match="USER:PASSWORD"):
            Credentials.parse(bad)


def test_malformed_auth_is_refused_before_serving(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "qa_bot.cli", "serve", "--auth", "alice", "--index", str(tmp_path / "i")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and result.stderr.strip() == "error: --auth expects USER:PASSWORD, both non-empty."


@pytest.fixture(scope="module")
def url(seed_index, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("QA_BOT_AUTH", f"{USER}:{PASSWORD}")  # the environment variable route
    with seed_server(seed_index, tmp_path_factory.mktemp("auth"), headers=BEARER) as (base, _):
        yield base


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/gradio_api/call/ask"),
        ("GET", "/gradio_api/info"),
        ("GET", "/config"),
        ("POST", "/gradio_api/upload"),
        ("GET", "/gradio_api/file=pyproject.toml"),
        ("GET", "/openapi.json"),  # these three answered without the login before
        ("POST", "/gradio_api/reset"),
        ("POST", "/gradio_api/cancel"),
        ("POST", "/gradio_api/reset/"),
        ("GET", "/gradio_api/heartbeat/abc123"),  # and these, before the guard covered all of /gradio_api/
        ("GET", "/gradio_api/app_id"),
        ("GET", "/gradio_api/runs"),
        ("POST", "/gradio_api/stream/abc123"),
        ("GET", "/gradio_api/run-history/records"),
    ],
)
def test_nothing_answers_without_the_login(url, method, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": _basic(USER, "wrong")}):
        # streamed, so an open event stream (the heartbeat's never ends) fails here instead of hanging
        with httpx.stream(method, url + path, headers=headers, json={"data": ["When are the next talks?"]}, timeout=30) as resp:
            assert resp.status_code in (401, 403), (path, headers, resp.status_code)
            text = resp.read().decode()
        assert "February" not in text and "[project]" not in text


def test_the_login_screen_and_its_assets_stay_open(url):
    """The guard adds the login where Gradio forgot it, and closes nothing the login page needs."""
    page = httpx.get(url + "/", timeout=30)
    assert page.status_code == 200 and "<html" in page.text
    assets = re.findall(r'(?:src|href)="\.?/?(assets/[^"]+)"', page.text)
    assert assets, page.text[:500]
    for path in ["theme.css", "manifest.json", "favicon.ico", *assets[:5]]:
        assert httpx.get(f"{url}/{path}", timeout=30).status_code == 200, path
    assert httpx.get(url + "/gradio_api/login_check", timeout=30).status_code == 401  # the page then shows the form
    with httpx.Client(base_url=url, timeout=30) as browser:
        assert browser.post("/login", data={"username": USER, "password": "wrong"}).status_code == 400
        assert browser.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        assert browser.get("/gradio_api/login_check").status_code == 200
        assert browser.get("/openapi.json").json()["openapi"].startswith("3.")
        # logged in, the queue's cancel and reset are Gradio's again: they answer on the missing ids
        assert browser.post("/gradio_api/cancel", json={}).status_code == 422
        assert browser.post("/gradio_api/reset", json={}).status_code == 422
    assert httpx.get(url + "/openapi.json", headers=BEARER, timeout=30).status_code == 200


def test_v1_refuses_without_the_key_in_openai_error_shape(url):
    resp = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer wrong"}, timeout=30)
    assert resp.status_code == 401 and "Bearer" in resp.headers["www-authenticate"]
    assert resp.json() == {"error": {"message": "A valid API key (the server's --auth password) is required.",
                                     "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}


def test_openai_client_with_the_password_as_api_key(url):
    openai = pytest.importorskip("openai")
    with openai.OpenAI(base_url=f"{url}/v1", api_key=PASSWORD, timeout=120, max_retries=0) as client:
        completion = client.chat.completions.create(model="qa-bot", messages=NEXT_TALKS, extra_body={"asked_on": SEED_ASKED_ON})
        assert "February 1" in completion.choices[0].message.content
    with openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", timeout=60, max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="qa-bot", messages=NEXT_TALKS)


def test_gradio_client_logs_in(url):
    from gradio_client import Client

    bot = Client(url + "/", auth=(USER, PASSWORD), verbose=False)
    assert "February 1" in bot.predict("When are the next talks?", [], SEED_ASKED_ON, "", 0, api_name="/ask")["answer"]
    with pytest.raises(Exception):
        Client(url + "/", auth=(USER, "wrong"), verbose=False)


def test_the_env_variable_is_the_default_only(monkeypatch):
    """--auth on the command line wins over $QA_BOT_AUTH; without either, no login is asked."""
    from qa_bot.cli import build_parser

    monkeypatch.delenv("QA_BOT_AUTH", raising=False)
    assert build_parser().parse_args(["serve"]).auth is None
    monkeypatch.setenv("QA_BOT_AUTH", "a:b")
    assert build_parser().parse_args(["serve"]).auth == "a:b"
    assert build_parser().parse_args(["serve", "--auth", "c:d"]).auth == "c:d"


@pytest.mark.browser
def test_the_page_works_once_logged_in(url):
    """The guard over /gradio_api/ must not break the logged-in page: its queue, heartbeat and
    uploads carry the session cookie."""
    from test_web_browser import CHROMIUM, CHROMIUM_ARGS, ask, playwright_api, set_asked_on

    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page()
            page.goto(url)
            page.locator("input[type=text], input:not([type])").first.fill(USER)
            page.locator("input[type=password]").fill(PASSWORD)
            page.locator("button", has_text="Login").click()
            page.locator("#qa-article-list li").first.wait_for(timeout=30_000)
            set_asked_on(page, SEED_ASKED_ON)
            assert "February 1" in ask(page, "When are the next talks?").inner_text()
        finally:
            chromium.close()
