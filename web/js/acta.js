// One meeting: GET /meetings/{id} drawn as the acta's sections, its timeline and
// costs, the download links (they live 5 minutes: opening the view again makes
// new ones), resend, and erase after a confirmation.

import { api } from "./api.js";
import { byId, h, show, fillDetails, announce, safeHref } from "./dom.js";
import { t, formatDay, formatDateTime, formatUsd, formatMinutes, onLanguageChange } from "./i18n.js";
import { describeError } from "./errors.js";
import { confirmErase } from "./dialog.js";

function section(titleKey, items) {
  if (!items || !items.length) return null;
  return [h("h3", {}, t(titleKey)), h("ul", {}, ...items.map((item) => h("li", {}, item)))];
}

function person(p) {
  const extra = [p.role, p.organization].filter(Boolean).join(", ");
  return extra ? `${p.name} (${extra})` : p.name;
}

function task(item) {
  const extra = [];
  if (item.owner) extra.push(t("acta.owner", { owner: item.owner }));
  if (item.due_date) extra.push(t("acta.due", { due: item.due_date }));
  return extra.length ? `${item.task} (${extra.join("; ")})` : item.task;
}

function nextMeeting(next) {
  if (!next) return null;
  const parts = [next.date, next.time, next.modality, next.purpose].filter(Boolean);
  return parts.length ? [h("h3", {}, t("acta.next")), h("p", {}, parts.join(" · "))] : null;
}

function actaBody(acta) {
  if (!acta) return [h("p", { class: "note" }, t("acta.not_ready"))];
  return [
    acta.summary ? [h("h3", {}, t("acta.summary")), h("p", {}, acta.summary)] : null,
    section("acta.participants", (acta.participants || []).map(person)),
    section("acta.topics", (acta.topics || []).map((topic) => `${topic.title}: ${topic.summary}`)),
    section("acta.decisions", acta.decisions),
    section("acta.actions", (acta.action_items || []).map(task)),
    section("acta.questions", acta.open_questions),
    nextMeeting(acta.next_meeting),
  ]
    .flat()
    .filter(Boolean);
}

function setLink(node, link) {
  const href = link && safeHref(link.url);
  if (href) {
    node.href = href;
    node.removeAttribute("aria-disabled");
    node.removeAttribute("tabindex");
  } else {
    node.removeAttribute("href");
    node.setAttribute("aria-disabled", "true");
  }
}

export function initActa({ onErased }) {
  const view = byId("acta");
  const message = byId("acta-message");
  let current = null; // the GET /meetings/{id} answer shown

  function draw() {
    if (!current) return;
    const { meeting, acta, timeline, costs, downloads } = current;
    byId("acta-title").textContent = meeting.title || meeting.filename || t("history.untitled");
    fillDetails(byId("acta-meta"), [
      [t("acta.meta.status"), t(`status.${meeting.status}`)],
      [t("acta.meta.client"), meeting.client ? meeting.client.name : ""],
      [t("acta.meta.date"), formatDay(meeting.meeting_date)],
      [t("acta.meta.file"), meeting.filename],
      [t("acta.meta.received"), formatDateTime(meeting.received_at)],
      [t("acta.meta.emailed"), formatDateTime(meeting.emailed_at)],
      [t("acta.meta.audio"), formatMinutes(meeting.audio_minutes)],
      [t("acta.meta.language"), meeting.language],
    ]);
    const failed = byId("acta-failed");
    failed.textContent = meeting.error ? t("status.reason", { reason: meeting.error.message || meeting.error.code }) : "";
    show(failed, Boolean(meeting.error));
    byId("acta-body").replaceChildren(...actaBody(acta));
    setLink(byId("download-docx"), downloads.docx);
    setLink(byId("download-transcript"), downloads.transcript);
    setLink(byId("download-audio"), downloads.audio);
    byId("resend-button").disabled = meeting.status !== "emailed";
    byId("acta-timeline").replaceChildren(
      ...(timeline || []).map((step) =>
        h("li", {}, `${formatDateTime(step.at)} · ${t(`status.${step.status}`)} (${step.event})`),
      ),
    );
    fillDetails(byId("acta-costs"), [
      [t("cost.transcription"), formatUsd(costs.transcription_usd)],
      [t("cost.generation"), formatUsd(costs.generation_usd)],
      [t("cost.email"), formatUsd(costs.email_usd)],
      [t("cost.total"), formatUsd(costs.total_usd)],
    ]);
  }
  onLanguageChange(draw);

  function close() {
    current = null;
    show(view, false);
    message.textContent = "";
  }

  async function open(meetingId) {
    message.textContent = "";
    try {
      current = await api.meeting(meetingId);
    } catch (error) {
      current = null;
      show(view, true);
      byId("acta-title").textContent = t("acta.unavailable");
      message.textContent = describeError(error);
      return;
    }
    draw();
    show(view, true);
    view.focus();
    view.scrollIntoView({ block: "start" });
  }

  byId("acta-close").addEventListener("click", () => {
    close();
    byId("history-list").focus?.();
  });

  byId("resend-button").addEventListener("click", async () => {
    if (!current) return;
    try {
      await api.resend(current.meeting.id);
      message.textContent = t("acta.resent");
    } catch (error) {
      message.textContent = describeError(error);
    }
    announce(message.textContent);
  });

  byId("erase-button").addEventListener("click", async () => {
    if (!current) return;
    const meetingId = current.meeting.id;
    const title = byId("acta-title").textContent;
    const ok = await confirmErase({ titleKey: "confirm.erase_meeting_title", textKey: "confirm.erase_meeting", vars: { title } });
    if (!ok) return;
    try {
      await api.eraseMeeting(meetingId);
    } catch (error) {
      message.textContent = describeError(error);
      announce(message.textContent);
      return;
    }
    close();
    announce(t("acta.erased", { title }));
    onErased(meetingId);
  });

  return { open, close };
}
