// The desk, live without reloading: every second it asks for what is new.
// Words are put in as text, never as HTML: a texter's message is not markup.
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function pollThread(section) {
  const list = document.getElementById("messages");
  const state = document.getElementById("state");
  let after = Number(section.dataset.after);
  const every = Number(section.dataset.poll) * 1000;
  async function tick() {
    try {
      const answer = await fetch(`${section.dataset.updates}?after=${after}`, { credentials: "same-origin" });
      if (answer.ok) {
        const data = await answer.json();
        for (const m of data.messages) {
          const from = m.sender === "texter" ? "texter" : m.sender === "line" ? "line" : "counselor";
          const item = el("li", `from-${from}${m.crisis ? " crisis" : ""}`);
          item.dataset.seq = m.seq;
          const meta = el("span", "meta", `${m.at} ${m.sender}`);
          if (m.crisis) { meta.append(" · "); meta.append(el("strong", "flag", "crisis")); }
          item.append(meta, el("span", "body", m.body));
          list.append(item);
          after = Math.max(after, m.seq);
        }
        state.textContent = data.state === "held" ? `held by ${data.holder}` : data.state;
      }
    } catch (error) { /* offline for a moment: the next tick tries again */ }
    setTimeout(tick, every);
  }
  setTimeout(tick, every);
}

function pollLists(section) {
  const every = Number(section.dataset.poll) * 1000;
  async function tick() {
    try {
      const answer = await fetch(section.dataset.lists, { credentials: "same-origin" });
      if (answer.ok) {
        const data = await answer.json();
        // Not what this page was drawn from (a texter waiting, one taken, even
        // one who arrived while it loaded): show it as the server draws it.
        if (data.version !== section.dataset.version) { window.location.reload(); return; }
      }
    } catch (error) { /* the next tick tries again */ }
    setTimeout(tick, every);
  }
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  const thread = document.getElementById("thread");
  if (thread) pollThread(thread);
  const lists = document.getElementById("desk-lists");
  if (lists) pollLists(lists);
});
