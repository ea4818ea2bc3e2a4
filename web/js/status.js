// A meeting's live status after its upload: GET /uploads/{id} every 2 s until
// it is emailed or failed, each stage ticked off, the reason shown on failure.

import { api } from "./api.js";
import { byId, h, show, announce } from "./dom.js";
import { t, formatDateTime, onLanguageChange } from "./i18n.js";

export const STAGES = ["received", "submitted", "transcribed", "generating", "emailed"];
const FINAL = new Set(["emailed", "failed"]);
const POLL_MS = 2000;

export function initStatus({ onFinished, onOpen }) {
  const box = byId("status-box");
  const label = byId("status");
  const steps = byId("status-steps");
  const reason = byId("status-reason");
  const open = byId("status-open");
  let timer = null;
  let followed = null; // upload id
  let last = null; // the last answer

  function draw() {
    if (!last) return;
    const status = last.status;
    label.dataset.status = status;
    label.textContent = t(`status.${status}`);
    const reached = STAGES.indexOf(status);
    const stamps = last.timestamps || {};
    steps.replaceChildren(
      ...STAGES.map((stage, index) => {
        const done = stamps[stage] !== undefined || (reached >= 0 && index < reached);
        const current = stage === status && status !== "emailed";
        const when = stamps[stage] ? ` · ${formatDateTime(stamps[stage])}` : "";
        return h(
          "li",
          {
            class: current ? "current" : done || stage === status ? "done" : "",
            "aria-current": current ? "step" : null,
          },
          t(`status.${stage}`) + when,
        );
      }),
    );
    if (status === "failed") {
      const error = last.error || {};
      reason.textContent = t("status.reason", { reason: error.message || error.code || "" });
      show(reason, true);
    } else if (status === "waiting_for_file" && last.upload_url_expired) {
      reason.textContent = t("status.expired");
      show(reason, true);
    } else {
      show(reason, false);
    }
    show(open, Boolean(last.meeting_id) && FINAL.has(status));
  }
  onLanguageChange(draw);

  function stop() {
    if (timer) window.clearTimeout(timer);
    timer = null;
  }

  async function poll(uploadId) {
    if (followed !== uploadId) return;
    let answer = null;
    try {
      answer = await api.upload(uploadId);
    } catch {
      // Busy (429/503) or offline for a moment: keep asking; the bar stays where it was.
    }
    if (followed !== uploadId) return;
    if (answer) {
      const changed = !last || last.status !== answer.status;
      last = answer;
      draw();
      if (changed) announce(label.textContent);
      if (FINAL.has(answer.status) || (answer.status === "waiting_for_file" && answer.upload_url_expired)) {
        followed = null;
        onFinished(answer);
        return;
      }
    }
    timer = window.setTimeout(() => poll(uploadId), POLL_MS);
  }

  open.addEventListener("click", () => last && last.meeting_id && onOpen(last.meeting_id));

  return {
    follow(uploadId) {
      stop();
      followed = uploadId;
      last = { status: "waiting_for_file", timestamps: {} };
      draw();
      show(box, true);
      poll(uploadId);
    },
    stop() {
      stop();
      followed = null;
    },
  };
}
