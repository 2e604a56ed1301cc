// The desk, live without reloading: every second it asks for what is new.
// Words are put in as text, never as HTML: a texter's message is not markup.
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Where a counselor's message is (queued, sent, delivered, not delivered):
// asked again every tick until it is settled.
function showDelivery(item, d) {
  const status = item.querySelector(".status");
  if (status) {
    status.textContent = d.status_text;
    status.classList.toggle("trouble", d.trouble);
  }
  if (d.settled) item.removeAttribute("data-pending");
  else item.setAttribute("data-pending", "");
}

function pollThread(section) {
  const list = document.getElementById("messages");
  const state = document.getElementById("state");
  let after = Number(section.dataset.after);
  const every = Number(section.dataset.poll) * 1000;
  function pending() {
    const seqs = Array.from(list.querySelectorAll("li[data-pending]"), (li) => li.dataset.seq);
    return seqs.slice(-100);
  }
  async function tick() {
    try {
      const query = new URLSearchParams({ after: String(after) });
      const watched = pending();
      if (watched.length) query.set("pending", watched.join(","));
      const answer = await fetch(`${section.dataset.updates}?${query}`, { credentials: "same-origin" });
      if (answer.ok) {
        const data = await answer.json();
        for (const m of data.messages) {
          if (m.seq <= after) continue;
          const from = m.sender === "texter" ? "texter" : m.sender === "line" ? "line" : "counselor";
          const item = el("li", `from-${from}${m.crisis ? " crisis" : ""}`);
          item.dataset.seq = m.seq;
          // The line's own texts (the wait, a crisis reply): what the texter was told.
          const who = m.sender === "line" ? "the line (automatic)" : m.sender;
          const meta = el("span", "meta", `${m.at} ${who}`);
          if (m.crisis) { meta.append(" · "); meta.append(el("strong", "flag", "crisis")); }
          if (m.counselor) { meta.append(" · "); meta.append(el("span", "status")); }
          item.append(meta, el("span", "body", m.body));
          if (m.counselor) showDelivery(item, m);
          list.append(item);
          after = Math.max(after, m.seq);
        }
        for (const d of data.delivery) {
          const item = list.querySelector(`li[data-seq="${Number(d.seq)}"]`);
          if (item) showDelivery(item, d);
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
  let skew = 0; // the server's clock less this one's, in seconds
  const drawn = () => section.querySelector(".desk-lists");
  function measure() { skew = Number(drawn().dataset.now) - Date.now() / 1000; }
  // Minutes waited, counted here: a wait alone is no reason to redraw.
  function count() {
    const now = Date.now() / 1000 + skew;
    for (const node of section.querySelectorAll(".minutes[data-since]")) {
      const minutes = String(Math.max(0, Math.floor((now - Number(node.dataset.since)) / 60)));
      if (node.textContent !== minutes) node.textContent = minutes;
    }
  }
  function put(html) {
    // The server's own drawing of the lists, its template escaping every word:
    // parsed into an inert document (nothing in it runs) and moved in as nodes.
    const fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".desk-lists");
    if (!fresh) return;
    const focused = document.activeElement && document.activeElement.closest("#desk-lists form");
    const action = focused ? focused.getAttribute("action") : null;
    section.replaceChildren(document.adoptNode(fresh));
    measure();
    if (action) {
      const again = section.querySelector(`form[action="${CSS.escape(action)}"] button`);
      if (again) again.focus();
    }
  }
  async function tick() {
    try {
      const since = encodeURIComponent(drawn().dataset.version);
      const answer = await fetch(`${section.dataset.lists}?since=${since}`, { credentials: "same-origin" });
      if (answer.redirected) { window.location.reload(); return; } // signed out: to the login
      if (answer.status === 200) put(await answer.text());
    } catch (error) { /* the next tick tries again */ }
    count();
    setTimeout(tick, every);
  }
  measure();
  count();
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  const thread = document.getElementById("thread");
  if (thread) pollThread(thread);
  const lists = document.getElementById("desk-lists");
  if (lists) pollLists(lists);
});
