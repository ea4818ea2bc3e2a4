// The history: GET /meetings filtered by client (GET /clients), status and a
// date range, newest first, a page at a time ("more" follows next_cursor).

import { api } from "./api.js";
import { byId, h, show } from "./dom.js";
import { t, formatDay, formatDateTime, formatUsd, onLanguageChange } from "./i18n.js";
import { describeError } from "./errors.js";

const PAGE = 20;

export function initHistory({ onOpen }) {
  const form = byId("history-filters");
  const clientSelect = byId("filter-client");
  const list = byId("history-list");
  const more = byId("history-more");
  const state = byId("history-state");
  let meetings = [];
  let cursor = null;
  let loading = 0; // the latest request's number: an older answer is dropped

  function filters() {
    return {
      client_id: clientSelect.value,
      status: byId("filter-status").value,
      from: byId("filter-from").value,
      to: byId("filter-to").value,
    };
  }

  function item(meeting) {
    const title = meeting.title || meeting.filename || t("history.untitled");
    const when = meeting.meeting_date ? formatDay(meeting.meeting_date) : formatDateTime(meeting.received_at);
    const details = [meeting.client ? meeting.client.name : t("history.no_client"), when];
    if (meeting.cost_usd) details.push(formatUsd(meeting.cost_usd));
    return h(
      "li",
      { class: "history-item", dataset: { testid: "history-item", meetingId: meeting.id, status: meeting.status } },
      h(
        "button",
        { type: "button", onclick: () => onOpen(meeting.id) },
        h("span", { class: "item-title" }, title),
        h("span", { class: "item-meta" }, details.join(" · ")),
        h("span", {}, h("span", { class: `badge ${meeting.status}` }, t(`status.${meeting.status}`))),
      ),
    );
  }

  function draw() {
    list.replaceChildren(...meetings.map(item));
    show(more, Boolean(cursor));
    if (!meetings.length) state.textContent = t("history.empty");
    else state.textContent = t("history.count", { count: meetings.length });
  }
  onLanguageChange(() => {
    draw();
    loadClients();
  });

  async function load(append) {
    const mine = ++loading;
    state.textContent = t("history.loading");
    try {
      const page = await api.meetings({ ...filters(), limit: PAGE, cursor: append ? cursor : "" });
      if (mine !== loading) return;
      meetings = append ? meetings.concat(page.meetings) : page.meetings;
      cursor = page.next_cursor;
      draw();
    } catch (error) {
      if (mine !== loading) return;
      state.textContent = describeError(error);
    }
  }

  async function loadClients() {
    let answer;
    try {
      answer = await api.clients();
    } catch {
      return; // the filter keeps "all clients"; the list says what went wrong
    }
    const chosen = clientSelect.value;
    const all = h("option", { value: "", "data-i18n": "history.all_clients" }, t("history.all_clients"));
    clientSelect.replaceChildren(
      all,
      ...answer.clients.map((client) =>
        h("option", { value: client.id }, `${client.name} (${client.meetings})`),
      ),
    );
    if ([...clientSelect.options].some((option) => option.value === chosen)) clientSelect.value = chosen;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  for (const field of form.querySelectorAll("select, input")) {
    field.addEventListener("change", () => load(false));
  }
  more.addEventListener("click", () => load(true));

  return {
    refresh() {
      loadClients();
      return load(false);
    },
    remove(meetingId) {
      meetings = meetings.filter((meeting) => meeting.id !== meetingId);
      draw();
    },
    clear() {
      meetings = [];
      cursor = null;
      list.replaceChildren();
      state.textContent = "";
    },
  };
}
