// qa-bot's page behaviour that Gradio components do not give: citation links that scroll to and
// flash their card, a card's "Read the article" button that opens the reader, the newest answer's
// top kept in view, the reader's first highlight scrolled into view, and a light/dark toggle that
// is remembered. Chat messages are sanitised HTML, so everything is wired here by delegation.
(() => {
  const THEME_KEY = "qa-bot-theme";

  function applyTheme(theme) {
    document.body.classList.toggle("dark", theme === "dark");
  }

  function setGradioValue(elemId, value) {
    const box = document.querySelector(`#${elemId} textarea, #${elemId} input`);
    if (!box) return false;
    box.value = value;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  }

  document.addEventListener("click", (event) => {
    const ref = event.target.closest("a.qa-ref");
    if (ref) {
      event.preventDefault();
      const card = document.getElementById(ref.getAttribute("href").slice(1));
      if (card) {
        card.scrollIntoView({ behavior: "smooth", block: "nearest" });
        card.classList.add("qa-flash");
        setTimeout(() => card.classList.remove("qa-flash"), 2500);
      }
      return;
    }
    const open = event.target.closest("a.qa-open");
    if (open) {
      event.preventDefault();
      const request = decodeURIComponent(open.getAttribute("href").slice("#open:".length));
      if (setGradioValue("qa-open-doc", `${request}|${Date.now()}`)) {
        document.querySelector("#qa-open-go")?.click();
      }
      return;
    }
    if (event.target.closest("#qa-theme")) {
      const dark = !document.body.classList.contains("dark");
      localStorage.setItem(THEME_KEY, dark ? "dark" : "light");
      applyTheme(dark ? "dark" : "light");
    }
  });

  // the newest answer, or the work in progress, is scrolled to its top inside the chat (not to its
  // bottom, which on a phone is the end of the last source card); the reader to its first mark
  function scrollerOf(element) {
    for (let node = element.parentElement; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) return node;
      if (node.id === "qa-chat") break;
    }
    return null;
  }
  const seen = new WeakSet();
  const observer = new MutationObserver(() => {
    dropEchoOnceAnswered();
    const replies = document.querySelectorAll("#qa-chat .qa-reply");
    const last = replies[replies.length - 1];
    if (last && !seen.has(last)) {
      seen.add(last);
      const scroller = scrollerOf(last);
      if (scroller) {
        const top = last.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
        scroller.scrollTop += top - 8;
      }
    }
    const mark = document.querySelector("#qa-reader .qa-reader-text mark");
    if (mark && !seen.has(mark)) {
      seen.add(mark);
      const scroller = document.getElementById("qa-reader");
      if (scroller) scroller.scrollTop += mark.getBoundingClientRect().top - scroller.getBoundingClientRect().top - 80;
    }
  });

  // on a phone the conversation list would cover the chat: it starts closed there (once the
  // page's own script has wired the sidebar's toggle)
  function closeSidebarOnPhone() {
    if (window.innerWidth >= 768) return;
    let tries = 0;
    const timer = setInterval(() => {
      const sidebar = document.getElementById("qa-sidebar");
      tries += 1;
      if (sidebar && sidebar.classList.contains("open")) sidebar.querySelector(".toggle-button")?.click();
      else if (sidebar || tries > 40) clearInterval(timer);
    }, 250);
  }

  // the question as typed, shown in the chat at once (before the server's round trip); the
  // server's own bubble replaces it as soon as it arrives
  let echo = null;
  window.qaEchoQuestion = (text, limit) => {
    echo?.node.remove();
    const log = document.querySelector("#qa-chat .message-wrap") || document.querySelector("#qa-chat [role=log]");
    if (!log) return;
    const rows = log.querySelectorAll(".user-row");
    const template = rows[rows.length - 1];
    const node = template ? template.cloneNode(true) : document.createElement("div");
    node.querySelectorAll(".message-buttons-right, button").forEach((b) => b.remove());
    node.classList.add("qa-echo");
    node.querySelectorAll("[aria-label]").forEach((n) => n.removeAttribute("aria-label"));
    let bubble = node.querySelector(".qa-question");
    if (!bubble) {
      bubble = document.createElement("div");
      bubble.className = "qa-question";
      node.replaceChildren(bubble);
    }
    bubble.textContent = text.length <= limit ? text : `${text.slice(0, limit)} …`;
    const real = document.querySelectorAll("#qa-chat .qa-question:not(.qa-echo .qa-question)").length;
    log.appendChild(node);
    echo = { node, real };
    node.scrollIntoView({ block: "nearest" });
    setTimeout(() => { if (echo?.node === node) { node.remove(); echo = null; } }, 120000);
  };
  function dropEchoOnceAnswered() {
    if (!echo) return;
    const real = document.querySelectorAll("#qa-chat .qa-question:not(.qa-echo .qa-question)").length;
    if (real > echo.real || !echo.node.isConnected) {
      echo.node.remove();
      echo = null;
    }
  }

  function start() {
    closeSidebarOnPhone();
    const saved = localStorage.getItem(THEME_KEY);
    if (saved) applyTheme(saved);
    observer.observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
