// A little help where it matters; every page works without it.
(function () {
  "use strict";

  // Now: fetch the live panel again every few seconds, in place.
  const panel = document.getElementById("now-panel");
  if (panel) {
    const url = panel.dataset.refresh;
    const seconds = Number(panel.dataset.seconds || "5");
    const refresh = async () => {
      try {
        const answer = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (answer.redirected || answer.status === 401) { window.location.reload(); return; }
        if (answer.ok) { panel.innerHTML = await answer.text(); }
      } catch (_) { /* the next tick tries again */ }
    };
    window.setInterval(refresh, seconds * 1000);
  }

  // Roster: show the week in the operator's own time zone unless one was chosen.
  const zoneField = document.querySelector("select[name=tz][data-auto]");
  if (zoneField && !new URLSearchParams(window.location.search).has("tz")) {
    const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (mine && mine !== zoneField.value && [...zoneField.options].some(o => o.value === mine)) {
      const params = new URLSearchParams(window.location.search);
      params.set("tz", mine);
      window.location.search = params.toString();
    }
  }

  // Deleting asks once.
  document.querySelectorAll("form[data-confirm]").forEach(form => {
    form.addEventListener("submit", event => {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();

// The monthly report's Print link (no inline script: the CSP forbids it).
document.addEventListener("DOMContentLoaded", () => {
  const link = document.getElementById("print");
  if (link) link.addEventListener("click", (event) => { event.preventDefault(); window.print(); });
});
