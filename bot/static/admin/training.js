// Träning: follows a running job without reloading the page (progressive enhancement;
// without JavaScript the page's "Uppdatera sidan" link does the same). Polls the job's
// JSON once a second and updates the figures; reloads once when the job has ended so
// that the page shows the result and its links.
"use strict";

(function () {
  const section = document.querySelector(".training-job[data-active='true']");
  if (!section) return;
  const url = `/admin/training/jobs/${section.dataset.job}.json`;
  const field = (name) => section.querySelector(`[data-field='${name}']`);
  const STATUS = { done: "(klar)", current: "(pågår)", failed: "(misslyckades)", waiting: "(väntar)", skipped: "(behövs inte)" };

  function setText(name, value) {
    const el = field(name);
    if (el && el.textContent !== String(value)) el.textContent = value;
  }

  function show(job) {
    setText("state_name", job.state_name);
    setText("mode_name", job.mode_name || "Bestäms efter exporten");
    setText("elapsed_text", job.elapsed_text);
    setText("estimate_text", job.estimate_text || "–");
    setText("remaining_text", job.remaining_text || "–");
    setText("component", job.component || "–");
    setText("epoch", job.epoch);
    setText("epochs", job.epochs);
    setText("log_tail", job.log_tail);
    const progress = field("progress");
    if (progress) {
      progress.max = job.epochs || 1;
      progress.value = job.epoch;
    }
    const reason = field("mode_reason");
    if (reason && job.mode_reason) {
      reason.textContent = job.mode_reason;
      reason.hidden = false;
    }
    for (const stage of job.stages) {
      const item = section.querySelector(`[data-stage='${stage.name}']`);
      if (!item) continue;
      item.className = `stage stage-${stage.status}`;
      const label = item.querySelector(".stage-status");
      if (label) label.textContent = STATUS[stage.status] || "";
    }
  }

  async function poll() {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        show(job);
        if (!job.active) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // The gateway may be restarting: try again at the next tick.
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 1000);
})();
