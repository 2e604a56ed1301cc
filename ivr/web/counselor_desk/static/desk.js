// The desk, live without reloading: every second it asks for what is new.
// Words are put in as text, never as HTML: a texter's message is not markup.
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Where a counselor's message, or the line's own text, is (queued, sent,
// delivered, not delivered, not sent):
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

// A press that begins on a button and ends on the one drawn in its place
// clicks neither (a tap on Take lost to a redraw). What CONTAINER would draw
// again waits while a pointer or a key is down in it (and a moment after: a
// tap's click may follow its pointerup); never longer than HOLD_MS, so a
// press given up (a key up outside the window) does not stop it for good.
// Returns whether to draw now.
const HOLD_MS = 10000;
const CLICK_GRACE_MS = 500;

function pressWatch(container) {
  const down = new Set(); // pointers pressed inside, until they go up anywhere
  let releasedAt = -Infinity;
  let heldSince = null;
  container.addEventListener("pointerdown", (event) => { down.add(event.pointerId); });
  // A key held on a button (Space clicks when it comes up): a press too.
  // Focus alone is not: a redraw puts it back on the same button, and a
  // focused Take would otherwise hold every redraw for HOLD_MS.
  container.addEventListener("keydown", (event) => { down.add(`key:${event.code}`); });
  function up(event) {
    if (down.delete(event.pointerId)) releasedAt = performance.now();
  }
  function keyUp(event) {
    if (down.delete(`key:${event.code}`)) releasedAt = performance.now();
  }
  document.addEventListener("pointerup", up, true);
  document.addEventListener("pointercancel", up, true);
  document.addEventListener("keyup", keyUp, true);
  window.addEventListener("blur", () => down.clear());
  function busy() {
    return down.size > 0 || performance.now() - releasedAt < CLICK_GRACE_MS;
  }
  return function free() {
    const now = performance.now();
    if (busy()) {
      if (heldSince === null) heldSince = now;
      if (now - heldSince < HOLD_MS) return false;
      down.clear();
    }
    heldSince = null;
    return true;
  };
}

// The counselor's other conversations and their new words, drawn as the
// server's template draws them; again only when they change, and not while
// one of them is being pressed.
function watchElsewhere(line) {
  const free = pressWatch(line);
  const keyOf = (others) => JSON.stringify(others.map((o) => [o.id, o.unread, o.crisis]));
  let drawn = keyOf(Array.from(line.querySelectorAll(".other"), (node) => ({
    id: node.dataset.thread, unread: Number(node.dataset.unread), crisis: node.dataset.crisis === "1",
  })));
  return function draw(others) {
    const key = keyOf(others);
    if (key === drawn || !free()) return;
    const items = el("span", "list");
    others.forEach((o, index) => {
      if (index) items.append(", ");
      const item = el("span", "other");
      item.dataset.thread = o.id;
      item.dataset.unread = String(o.unread);
      item.dataset.crisis = o.crisis ? "1" : "0";
      const link = el("a", "", o.id);
      link.href = o.url;
      item.append(link);
      if (o.unread) { item.append(" · "); item.append(el("span", "unread", `${o.unread} new`)); }
      if (o.crisis) { item.append(" · "); item.append(el("strong", "flag", "crisis")); }
      items.append(item);
    });
    line.querySelector(".list").replaceWith(items);
    line.hidden = others.length === 0;
    drawn = key;
  };
}

function pollThread(section) {
  const list = document.getElementById("messages");
  const state = document.getElementById("state");
  const elsewhere = document.getElementById("elsewhere");
  const drawElsewhere = elsewhere ? watchElsewhere(elsewhere) : () => {};
  let after = Number(section.dataset.after);
  // The last message fetched while the page was in front of its holder. What
  // a hidden page fetches is not marked seen (seen=0): still new on their
  // desk. Shown again, the page asks for it again, and so marks it seen.
  let shown = after;
  const holder = Boolean(section.dataset.me);
  const every = Number(section.dataset.poll) * 1000;
  function pending() {
    const seqs = Array.from(list.querySelectorAll("li[data-pending]"), (li) => li.dataset.seq);
    return seqs.slice(-100);
  }
  async function tick() {
    try {
      const visible = !document.hidden;
      const since = visible && holder ? Math.min(shown, after) : after;
      const query = new URLSearchParams({ after: String(since), seen: visible ? "1" : "0" });
      const watched = pending();
      if (watched.length) query.set("pending", watched.join(","));
      const answer = await fetch(`${section.dataset.updates}?${query}`, { credentials: "same-origin" });
      if (answer.ok) {
        const data = await answer.json();
        for (const m of data.messages) {
          if (m.seq <= after) { // on the page already (asked again to mark it seen)
            const item = m.tracked && list.querySelector(`li[data-seq="${Number(m.seq)}"]`);
            if (item) showDelivery(item, m);
            continue;
          }
          const from = m.sender === "texter" ? "texter" : m.sender === "line" ? "line" : "counselor";
          const item = el("li", `from-${from}${m.crisis ? " crisis" : ""}`);
          item.dataset.seq = m.seq;
          // The line's own texts (the wait, a crisis reply): what the texter was told.
          const who = m.sender === "line" ? "the line (automatic)" : m.sender;
          const meta = el("span", "meta", `${m.at} ${who}`);
          if (m.crisis) { meta.append(" · "); meta.append(el("strong", "flag", "crisis")); }
          if (m.tracked) { meta.append(" · "); meta.append(el("span", "status")); }
          item.append(meta, el("span", "body", m.body));
          if (m.tracked) showDelivery(item, m);
          list.append(item);
          after = Math.max(after, m.seq);
        }
        for (const d of data.delivery) {
          const item = list.querySelector(`li[data-seq="${Number(d.seq)}"]`);
          if (item) showDelivery(item, d);
        }
        if (visible) shown = after;
        state.textContent = data.state === "held" ? `held by ${data.holder}` : data.state;
        drawElsewhere(data.elsewhere || []);
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
  const free = pressWatch(section);
  function put(html) {
    // Not while a Take is being pressed: the version known stays the one
    // drawn, so the next tick fetches the lists and tries again.
    if (!free()) return;
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
