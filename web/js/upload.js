// Upload screen: pick or drop a file, check it against config.json (type and
// size) before anything is sent, ask POST /uploads for a presigned POST, then
// send the form to S3 with XMLHttpRequest (fetch reports no upload progress):
// the presigned fields first, the file last, as S3 requires.

import { api, ApiError } from "./api.js";
import { byId, show, announce } from "./dom.js";
import { t, formatBytes, formatDuration, onLanguageChange } from "./i18n.js";
import { createMeter } from "./rate.js";
import { describeError } from "./errors.js";

function extensionOf(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

/** The content type to announce for file, or {error: key, vars}. Mirrors the
 * API's check: a type we accept whose extensions include the file's. */
export function checkFile(file, config) {
  const accepted = config.acceptedTypes || {};
  const extension = extensionOf(file.name);
  if (file.size === 0) return { error: "upload.error.empty" };
  const declared = (file.type || "").toLowerCase();
  let contentType = null;
  if (accepted[declared] && accepted[declared].includes(extension)) contentType = declared;
  else contentType = Object.keys(accepted).find((type) => accepted[type].includes(extension)) || null;
  if (!contentType) {
    return { error: "upload.error.type", vars: { name: file.name, extensions: allExtensions(config) } };
  }
  if (config.maxUploadBytes && file.size > config.maxUploadBytes) {
    return {
      error: "upload.error.size",
      vars: { size: formatBytes(file.size), max: formatBytes(config.maxUploadBytes) },
    };
  }
  return { contentType };
}

function allExtensions(config) {
  const all = new Set(Object.values(config.acceptedTypes || {}).flat());
  return [...all].map((e) => e.slice(1)).sort().join(", ");
}

/** The message S3 answers a refused POST with (XML), for the person to read. */
function s3Problem(xhr) {
  const xml = xhr.responseXML || new DOMParser().parseFromString(xhr.responseText || "", "application/xml");
  const code = xml?.querySelector("Code")?.textContent || "";
  return { code, status: xhr.status };
}

export function initUpload({ config, onUploaded }) {
  const input = byId("file-input");
  const zone = byId("drop-zone");
  const form = byId("upload-form");
  const submit = byId("upload-button");
  const cancel = byId("cancel-button");
  const retry = byId("retry-button");
  const chosen = byId("file-chosen");
  const fileError = byId("file-error");
  const box = byId("progress-box");
  const bar = byId("progress");
  const fill = byId("progress-fill");
  const text = byId("progress-text");
  const live = byId("progress-live");
  const message = byId("upload-message");

  let file = null;
  let contentType = null;
  let offer = null; // the answer of POST /uploads being sent
  let xhr = null;
  let lastSpoken = -1;
  let lastProgress = null;

  input.accept = [...new Set([...Object.keys(config.acceptedTypes || {}), ...Object.values(config.acceptedTypes || {}).flat()])].join(",");
  const limits = () => t("upload.limits", { extensions: allExtensions(config), max: formatBytes(config.maxUploadBytes || 0) });
  byId("file-limits").textContent = limits();

  function choose(candidate) {
    fileError.textContent = "";
    if (!candidate) return;
    const checked = checkFile(candidate, config);
    if (checked.error) {
      file = null;
      contentType = null;
      chosen.textContent = "";
      fileError.textContent = t(checked.error, checked.vars);
      return;
    }
    file = candidate;
    contentType = checked.contentType;
    chosen.textContent = t("upload.selected", { name: file.name, size: formatBytes(file.size) });
    resetProgress();
  }

  input.addEventListener("change", () => choose(input.files && input.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const dropped = event.dataTransfer && event.dataTransfer.files[0];
    if (dropped) choose(dropped);
  });

  function setBusy(busy) {
    submit.disabled = busy;
    input.disabled = busy;
    show(cancel, busy);
    if (busy) show(retry, false);
  }

  function resetProgress() {
    show(box, false);
    show(retry, false);
    message.textContent = "";
    message.classList.remove("error");
    setPercent(0);
    text.textContent = "";
    lastProgress = null;
  }

  function setPercent(percent) {
    const value = Math.max(0, Math.min(100, Math.round(percent)));
    bar.setAttribute("aria-valuenow", String(value));
    bar.setAttribute("aria-valuetext", `${value} %`);
    fill.style.width = `${value}%`;
    // Screen readers hear every 10 %, not every event.
    const tenth = Math.floor(value / 10);
    if (tenth !== lastSpoken) {
      lastSpoken = tenth;
      live.textContent = t("progress.percent", { percent: value });
    }
  }

  function drawProgress() {
    if (!lastProgress) return;
    const { loaded, total, speed, remaining } = lastProgress;
    const parts = [t("progress.sent", { sent: formatBytes(loaded), total: formatBytes(total) })];
    if (speed === null) parts.push(t("progress.estimating"));
    else {
      parts.push(t("progress.speed", { speed: formatBytes(speed) }));
      if (remaining !== null) parts.push(t("progress.remaining", { time: formatDuration(remaining) }));
    }
    text.textContent = parts.join(" · ");
  }
  onLanguageChange(() => {
    byId("file-limits").textContent = limits();
    if (file) chosen.textContent = t("upload.selected", { name: file.name, size: formatBytes(file.size) });
    drawProgress();
  });

  function fail(messageText, canRetry) {
    setBusy(false);
    message.textContent = messageText;
    message.classList.add("error");
    show(retry, canRetry);
    announce(messageText);
  }

  function send() {
    const meter = createMeter();
    const started = performance.now();
    const data = new FormData();
    for (const [name, value] of Object.entries(offer.fields)) data.append(name, value);
    data.append("file", file); // last: S3 ignores every field after the file
    xhr = new XMLHttpRequest();
    xhr.open("POST", offer.url);
    xhr.timeout = 0; // a large file on a slow link takes what it takes; onerror reports a lost link
    xhr.upload.addEventListener("loadstart", () => setPercent(0));
    xhr.upload.addEventListener("progress", (event) => {
      const total = event.lengthComputable ? event.total : file.size;
      const { speed, remaining } = meter.sample(event.loaded, total, performance.now());
      lastProgress = { loaded: event.loaded, total, speed, remaining };
      setPercent((event.loaded / total) * 100);
      drawProgress();
    });
    xhr.addEventListener("load", () => {
      const done = xhr;
      xhr = null;
      if (done.status >= 200 && done.status < 300) {
        setPercent(100);
        // The whole upload's average: a file sent in a blink never had a window to measure.
        const seconds = Math.max((performance.now() - started) / 1000, 0.001);
        lastProgress = { loaded: file.size, total: file.size, speed: file.size / seconds, remaining: null };
        drawProgress();
        setBusy(false);
        message.textContent = t("upload.done");
        announce(t("upload.done"));
        const uploadId = offer.upload_id;
        offer = null;
        onUploaded(uploadId);
        return;
      }
      const problem = s3Problem(done);
      const expired = problem.code === "AccessDenied" && Date.parse(offer.expires_at) < Date.now();
      if (expired) offer = null; // retry asks for a new presigned POST
      fail(t("upload.refused", { code: problem.code || `HTTP ${problem.status}` }), true);
    });
    xhr.addEventListener("error", () => {
      xhr = null;
      fail(t("upload.lost"), true);
    });
    xhr.addEventListener("timeout", () => {
      xhr = null;
      fail(t("upload.lost"), true);
    });
    xhr.addEventListener("abort", () => {
      xhr = null;
      setBusy(false);
      resetProgress();
      message.textContent = t("upload.cancelled");
      show(box, true);
      announce(t("upload.cancelled"));
    });
    xhr.send(data);
  }

  async function start() {
    if (!file) {
      fileError.textContent = t("upload.error.none");
      input.focus();
      return;
    }
    resetProgress();
    show(box, true);
    setBusy(true);
    text.textContent = t("upload.preparing");
    try {
      if (!offer || Date.parse(offer.expires_at) < Date.now() + 30_000) {
        const body = { filename: file.name, content_type: contentType, size_bytes: file.size };
        const client = byId("client-name").value.trim();
        const day = byId("meeting-date").value;
        const lang = byId("meeting-language").value;
        if (client) body.client_name = client;
        if (day) body.meeting_date = day;
        if (lang) body.language = lang;
        offer = await api.createUpload(body);
      }
    } catch (error) {
      offer = null;
      fail(describeError(error), error instanceof ApiError && (error.status === 0 || error.status >= 500));
      return;
    }
    send();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    start();
  });
  retry.addEventListener("click", () => start());
  cancel.addEventListener("click", () => {
    if (xhr) xhr.abort();
  });

  return {
    reset() {
      if (xhr) xhr.abort();
      file = null;
      offer = null;
      input.value = "";
      chosen.textContent = "";
      resetProgress();
      setBusy(false);
      show(cancel, false);
    },
  };
}
