"""The chat as people use it, in headless Chromium against the real server: the question shows at
once with the steps under it, the short answer leads, citations lead to their cards and cards to
the whole article, top-k shows, conversations survive a reload and export, the phone view keeps
the answer in sight, and labels are readable in both themes. Screenshots of each state, light and
dark, desktop and phone, go to test-artifacts/."""

from __future__ import annotations

import pytest

from conftest import SEED_ASKED_ON
from test_web_browser import ANSWER_TIMEOUT, ask, browser, server, set_asked_on  # noqa: F401  (fixtures reused)
from web_server import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}

# times, in the page's own clock, of Enter, the question's bubble and the finished answer; and
# every step text shown while answering
_WATCH = """() => {
  window.__qa = {enter: null, bubble: null, answer: null, steps: []};
  const box = document.querySelector('#qa-question textarea');
  box.addEventListener('keydown', e => { if (e.key === 'Enter') window.__qa.enter = performance.now(); }, true);
  const questions = document.querySelectorAll('#qa-chat .qa-question').length;
  const answers = document.querySelectorAll('#qa-chat .qa-final, #qa-chat .qa-error').length;
  new MutationObserver(() => {
    const q = window.__qa;
    if (q.bubble === null && document.querySelectorAll('#qa-chat .qa-question').length > questions) q.bubble = performance.now();
    if (q.answer === null && document.querySelectorAll('#qa-chat .qa-final, #qa-chat .qa-error').length > answers) q.answer = performance.now();
    for (const step of document.querySelectorAll('#qa-chat .qa-step-now')) {
      if (!q.steps.includes(step.textContent)) q.steps.push(step.textContent);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""

# WCAG contrast of each element's text against what is painted behind it (translucent layers blended)
_CONTRAST = """(selectors) => {
  const parse = c => (c.match(/[\\d.]+/g) || [0, 0, 0, 0]).map(Number);
  const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  function behind(el) {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const [r, g, b, a = 1] = parse(getComputedStyle(n).backgroundColor);
      if (a > 0) layers.push([r, g, b, a]);
      if (a >= 1) break;
    }
    let color = [255, 255, 255];
    if (document.body.classList.contains('dark') && !layers.some(l => l[3] >= 1)) color = [11, 15, 25];
    for (const [r, g, b, a] of layers.reverse()) color = [r * a + color[0] * (1 - a), g * a + color[1] * (1 - a), b * a + color[2] * (1 - a)];
    return color;
  }
  const out = [];
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) {
      if (!el.offsetParent || !el.textContent.trim()) continue;
      const fg = parse(getComputedStyle(el).color).slice(0, 3);
      const [l1, l2] = [lum(fg), lum(behind(el))].sort((a, b) => b - a);
      out.push({selector, text: el.textContent.trim().slice(0, 40), ratio: (l1 + 0.05) / (l2 + 0.05)});
    }
  }
  return out;
}"""
LABELS = [
    "#qa-chat .qa-flag", "#qa-chat .qa-note", "#qa-chat .qa-meta", "#qa-chat .qa-passage", "#qa-chat .qa-ref",
    "#qa-chat .qa-more summary", "#qa-chat .qa-answer", "#qa-chat .qa-rewrite", "#qa-chat .qa-open",
    "#qa-status", "#qa-article-list .qa-meta", "[data-testid='block-info']",
]


def _shot(page, name: str, theme: str = "light", form: str = "desktop") -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"chat-{name}-{theme}-{form}.png"))


def _theme(page, theme: str) -> None:
    if page.evaluate("document.body.classList.contains('dark')") != (theme == "dark"):
        page.locator("#qa-theme").click()
    page.wait_for_function("want => document.body.classList.contains('dark') === want", arg=theme == "dark")


@pytest.fixture
def open_page(browser, server):  # noqa: F811
    """A page of a given size with an empty saved-conversation store (each test its own context)."""
    url, _ = server
    contexts = []

    def opener(viewport: dict = DESKTOP):
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        page.locator("#qa-article-list li").first.wait_for(timeout=30_000)
        return page

    yield opener
    for context in contexts:
        context.close()


def test_the_question_shows_at_once_and_the_short_answer_leads_in_bold(open_page):
    page = open_page()
    set_asked_on(page, SEED_ASKED_ON)
    ask(page, "Who led the Russian delegation?")  # warms the model: the timing below is the page's own
    page.evaluate(_WATCH)
    reply = ask(page, "When are the next talks?")
    times = page.evaluate("window.__qa")
    assert times["bubble"] - times["enter"] < 300, times
    assert times["bubble"] < times["answer"], times
    # the bubble drawn at once gives way to the server's: the question shows once, not twice
    assert page.locator("#qa-chat .qa-echo").count() == 0
    assert page.locator("#qa-chat .qa-question", has_text="When are the next talks?").count() == 1
    first_bold = reply.locator("strong").first
    assert "February 1" in first_bold.inner_text()
    # bold and at the top: nothing of the answer above it
    assert first_bold.bounding_box()["y"] <= reply.locator(".qa-answer").bounding_box()["y"] + 2
    _shot(page, "answer")
    _theme(page, "dark")
    _shot(page, "answer", "dark")


def test_a_citation_leads_to_its_card_and_the_card_to_the_whole_article(open_page):
    page = open_page()
    set_asked_on(page, SEED_ASKED_ON)
    reply = ask(page, "When are the next talks?")
    link = reply.locator("a.qa-ref").first
    card = page.locator(f"[id='{link.get_attribute('href')[1:]}']")
    assert "Kostyukov" not in card.inner_text()
    link.click()
    page.wait_for_function("id => document.getElementById(id).classList.contains('qa-flash')", arg=link.get_attribute("href")[1:])
    _shot(page, "citation-clicked")
    card.locator("a.qa-open").click()
    reader = page.locator("#qa-reader")
    reader.locator(".qa-reader").wait_for(timeout=30_000)
    assert "Admiral Igor Kostyukov" in reader.inner_text()  # the article beyond the cited passage
    mark = reader.locator(".qa-reader-text mark").first
    assert "February 1" in mark.inner_text()
    page.wait_for_timeout(300)
    box, view = mark.bounding_box(), reader.bounding_box()
    assert view["y"] <= box["y"] <= view["y"] + view["height"]  # the first highlight is scrolled into view
    _shot(page, "reader")
    for theme in ("dark",):
        _theme(page, theme)
        _shot(page, "reader", theme)
    page.locator("#qa-reader-close").click()
    reader.wait_for(state="hidden", timeout=10_000)


def test_top_k_shows_more_passages(open_page):
    page = open_page()
    set_asked_on(page, SEED_ASKED_ON)
    counts = {}
    for k in (1, 10):
        page.locator("#qa-top-k input[type='number']").fill(str(k))
        page.locator("#qa-top-k input[type='number']").press("Enter")
        reply = ask(page, "Who led the Russian delegation?")
        counts[k] = reply.locator(".qa-card").count()
    assert counts[1] == 1 and counts[10] > counts[1], counts
    reply.locator(".qa-more summary").click()
    _shot(page, "more-passages")


def test_a_passed_date_is_noted_against_asked_on(open_page):
    page = open_page()
    set_asked_on(page, "2026-02-10")
    reply = ask(page, "When are the next talks?")
    note = reply.locator(".qa-note").first.inner_text()
    assert "February 1, 2026" in note and "before the date you asked on" in note
    _shot(page, "asked-on-note")
    _theme(page, "dark")
    _shot(page, "asked-on-note", "dark")


def test_conversations_survive_a_reload_and_export_and_delete(open_page):
    page = open_page()
    set_asked_on(page, SEED_ASKED_ON)
    ask(page, "When are the next talks?")
    page.reload()
    page.locator("#qa-chat .qa-final").first.wait_for(timeout=30_000)
    assert "When are the next talks?" in page.locator("#qa-chat .qa-question").first.inner_text()
    assert "February 1" in page.locator("#qa-chat .qa-final").first.inner_text()
    listed = page.locator("#qa-chat-list label")
    assert listed.count() == 1 and "When are the next talks?" in listed.first.inner_text()
    _shot(page, "restored")

    with page.expect_download() as download:
        page.locator("#qa-export").click()
    markdown = open(download.value.path(), encoding="utf-8").read()
    assert "## When are the next talks?" in markdown and "February 1" in markdown and "1. " in markdown

    page.locator("#qa-new-chat").click()
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-final').length === 0")
    set_asked_on(page, SEED_ASKED_ON)
    ask(page, "Who led the Russian delegation?")
    page.wait_for_function("() => document.querySelectorAll('#qa-chat-list label').length === 2")
    listed.filter(has_text="When are the next talks?").click()
    page.locator("#qa-chat .qa-question", has_text="When are the next talks?").wait_for(timeout=10_000)
    page.locator("#qa-delete-chat").click()
    page.wait_for_function("() => document.querySelectorAll('#qa-chat-list label').length === 1")
    assert "Who led the Russian delegation?" in listed.first.inner_text()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_phone_view_keeps_the_answers_top_in_sight(open_page, theme):
    page = open_page(PHONE)
    _theme(page, theme)
    _shot(page, "empty", theme, "phone")
    set_asked_on(page, SEED_ASKED_ON)
    reply = ask(page, "How many people were injured in Kyiv?")
    page.wait_for_timeout(300)
    top = reply.bounding_box()["y"]
    chat = page.locator("#qa-chat").bounding_box()
    assert chat["y"] - 1 <= top <= min(chat["y"] + chat["height"], PHONE["height"]) - 40, (top, chat)
    _shot(page, "answer", theme, "phone")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_labels_are_readable_in_both_themes(open_page, theme):
    page = open_page()
    _theme(page, theme)
    set_asked_on(page, "2026-02-10")
    reply = ask(page, "When are the next talks?")
    reply.locator(".qa-more summary").click()
    ask(page, "What is the boiling point of mercury?")
    ratios = page.evaluate(_CONTRAST, LABELS)
    assert {r["selector"] for r in ratios} >= {"#qa-chat .qa-flag", "#qa-chat .qa-note", "#qa-chat .qa-passage"}
    low = sorted({(r["selector"], r["text"], round(r["ratio"], 2)) for r in ratios if r["ratio"] < 4.5})
    assert low == [], low
    _shot(page, "labels", theme)


@pytest.mark.llm
def test_an_llm_answer_shows_its_steps(open_page):
    page = open_page()
    set_asked_on(page, SEED_ASKED_ON)
    page.locator("#qa-answerer label", has_text="llm").click()
    page.evaluate(_WATCH)
    reply = ask(page, "When are the next talks?")
    steps = page.evaluate("window.__qa.steps")
    assert len(set(steps)) >= 2, steps
    assert reply.locator(".qa-answer").inner_text().strip()
    _shot(page, "llm-answer")
