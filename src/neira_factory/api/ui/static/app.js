// Neira factory admin: a little plain JavaScript (no build step).
// - action buttons open a dialog that asks for a reason and a confirmation, then POST with fetch
//   (the same CSRF-checked form the page would post);
// - the server's event stream (/admin/events, Server-Sent Events) updates state badges, gates,
//   safe-mode and training runs without reloading the page.
"use strict";
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const attr = (name, value) => `[${name}="${window.CSS && CSS.escape ? CSS.escape(value) : value}"]`;

  function flash(text, ok) {
    const el = $("#live-flash");
    if (!el || !text) return;
    el.textContent = text;
    el.className = "flash " + (ok ? "ok" : "bad");
    el.hidden = false;
  }

  function setBadge(el, prefix, state) {
    el.textContent = state;
    el.dataset.state = state;
    el.className = el.className.split(/\s+/).filter((c) => !c.startsWith(prefix)).join(" ") + ` ${prefix}${state}`;
    el.classList.add("flash-change");
  }

  const nodeBadges = (id, state) => $$(attr("data-node-badge", id)).forEach((el) => setBadge(el, "st-", state));
  const runBadges = (id, state) => $$(attr("data-run-badge", id)).forEach((el) => setBadge(el, "st-", state));
  const subject = () => ($("h1[data-subject]") || { dataset: {} }).dataset.subject;

  // Re-read the parts of the page that depend on the state (actions, history) after a change.
  async function refreshParts() {
    for (const section of $$("[data-part-url]")) {
      try {
        const response = await fetch(section.dataset.partUrl, { credentials: "same-origin" });
        if (!response.ok) continue;
        const heading = section.querySelector("h2");
        section.innerHTML = await response.text();
        if (heading) section.prepend(heading);
      } catch (e) { /* the next event or a reload will do */ }
    }
  }

  // ---- the action dialog -----------------------------------------------------------------------------
  const dialog = $("#action-dialog");
  let pending = null;

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!dialog || !form.classList || !form.classList.contains("action-form")) return;
    event.preventDefault();
    pending = form;
    $("#dialog-title").textContent = form.dataset.title || "";
    $("#dialog-text").textContent = form.dataset.text || "";
    $("#dialog-force-row").hidden = !form.dataset.force;
    $("#dialog-force").checked = false;
    $("#dialog-iteration-row").hidden = !form.dataset.iteration;
    $("#dialog-iteration").value = "";
    $("#dialog-reason").value = "";
    $("#dialog-confirm").checked = false;
    $("#dialog-error").hidden = true;
    $("#dialog-submit").disabled = false;
    dialog.showModal();
    $("#dialog-reason").focus();
  });

  if (dialog) {
    $("#dialog-cancel").addEventListener("click", () => dialog.close());
    $("#dialog-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!pending) return;
      const body = new URLSearchParams(new FormData(pending));
      body.set("reason", $("#dialog-reason").value);
      if ($("#dialog-confirm").checked) body.set("confirm", "yes");
      if (!$("#dialog-force-row").hidden && $("#dialog-force").checked) body.set("force", "yes");
      if (!$("#dialog-iteration-row").hidden && $("#dialog-iteration").value) body.set("iteration", $("#dialog-iteration").value);
      const error = $("#dialog-error");
      $("#dialog-submit").disabled = true;
      let response, data = {};
      try {
        response = await fetch(pending.action, {
          method: "POST", body, credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", "X-CSRF-Token": csrf() },
        });
        data = await response.json().catch(() => ({}));
      } catch (e) {
        data = { code: "network", reason: String(e) };
      }
      $("#dialog-submit").disabled = false;
      if (!response || !response.ok) {
        error.textContent = `${data.reason || "error"} (${data.code || (response && response.status)})`;
        error.hidden = false;
        return;
      }
      dialog.close();
      flash(data.message, true);
      if (data.run_id) runBadges(data.run_id, data.state);
      else if (data.id && data.state) nodeBadges(data.id, data.state);
      refreshParts();
      if (data.run_id) setTimeout(() => window.location.reload(), 400);  // a run's page shows its decisions
    });
  }

  // ---- live updates ---------------------------------------------------------------------------------------
  const url = document.body.dataset.events;
  if (!url || !window.EventSource) return;
  const source = new EventSource(url);
  source.onopen = () => { document.body.dataset.live = "on"; };
  source.onerror = () => { document.body.dataset.live = "off"; };
  const on = (type, handle) => source.addEventListener(type, (message) => {
    try { handle(JSON.parse(message.data)); } catch (e) { /* not ours to break the page */ }
  });

  on("node.transition", (event) => {
    nodeBadges(event.resource, event.data.to);
    if (subject() === event.resource) refreshParts();
  });
  const created = () => { const note = $("#new-nodes"); if (note) note.hidden = false; };
  on("node.created", created);
  on("organ.created", created);
  on("analysis.verdict", (event) => {
    const phase = $("#analysis-phase");
    if (phase && subject() === event.resource) setBadge(phase, "p-", event.data.phase);
  });
  on("capability.changed", (event) => {
    $$(attr("data-gate-state", event.resource)).forEach((el) => setBadge(el, "g-", event.data.to));
  });
  on("safe_mode.changed", (event) => {
    const badge = $("#safe-mode-indicator");
    if (badge) badge.hidden = !event.data.on;
  });
  const runState = { "training.converged": "converged", "training.not_converged": "not_converged",
                     "training.failed": "failed", "training.waiting": "waiting", "training.started": "queued" };
  Object.entries(runState).forEach(([type, state]) => on(type, (event) => runBadges(event.resource, state)));
  ["training.paused", "training.resumed"].forEach((type) => on(type, (event) => runBadges(event.resource, event.data.state)));
  on("training.decided", (event) => {
    const state = { approve: "approved", reject: "rejected", continue: "queued" }[event.data.decision];
    if (state) runBadges(event.resource, state);
  });
  on("training.progress", (event) => {
    $$(attr("data-run-iterations", event.resource)).forEach((el) => {
      el.textContent = `${event.data.iteration} / ${event.data.max_iterations}`;
    });
    runBadges(event.resource, "running");
    const plot = $("#plot-img");
    if (plot && subject() === event.resource) plot.src = plot.src.split("?")[0] + "?n=" + event.data.iteration;
  });
})();
