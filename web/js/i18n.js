// Texts in Spanish (the default) and English: web/i18n/<lang>.json, flat keys.
// Static texts name their key in a data-i18n attribute (textContent) or in
// data-i18n-attr as attr:key pairs separated by ";";
// screens that draw their own content re-draw on onLanguageChange.

const SUPPORTED = ["es", "en"];
const STORAGE_KEY = "voxcliente.lang";
const listeners = new Set();
let current = "es";
let messages = {};

async function load(lang) {
  const response = await fetch(`i18n/${lang}.json`, { cache: "no-cache" });
  if (!response.ok) throw new Error(`i18n/${lang}.json: HTTP ${response.status}`);
  return response.json();
}

export function language() {
  return current;
}

/** The text of key in the current language, {name} replaced from vars. */
export function t(key, vars = {}) {
  const text = messages[key];
  if (text === undefined) {
    console.warn(`missing text ${current}:${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function apply(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      node.setAttribute(attr.trim(), t(key.trim()));
    }
  }
  document.documentElement.lang = current;
  document.title = t("app.title");
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

export async function setLanguage(lang) {
  current = SUPPORTED.includes(lang) ? lang : "es";
  messages = await load(current);
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // Private mode without storage: the choice lasts for this page only.
  }
  apply();
  for (const listener of listeners) listener(current);
}

export async function initI18n() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    stored = null;
  }
  await setLanguage(stored || "es");
}

export function otherLanguage() {
  return current === "es" ? "en" : "es";
}

// --- formats ------------------------------------------------------------------
const UNITS = ["byte", "kilobyte", "megabyte", "gigabyte"];

/** 1 234 567 bytes -> "1,2 MB" (decimal units, as the API's limits are written). */
export function formatBytes(bytes) {
  let value = Math.max(0, Number(bytes) || 0);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(current, {
    style: "unit",
    unit: UNITS[unit],
    unitDisplay: "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

/** Seconds -> "45 s", "3 min 20 s", "1 h 5 min". */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const part = (value, unit) =>
    new Intl.NumberFormat(current, { style: "unit", unit, unitDisplay: "narrow" }).format(value);
  if (total < 60) return part(total, "second");
  if (total < 3600) return `${part(Math.floor(total / 60), "minute")} ${part(total % 60, "second")}`;
  return `${part(Math.floor(total / 3600), "hour")} ${part(Math.floor((total % 3600) / 60), "minute")}`;
}

/** An ISO-8601 time -> the reader's local date and time. */
export function formatDateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A YYYY-MM-DD day -> "25 nov 2026", read as that calendar day wherever the reader is. */
export function formatDay(day) {
  if (!day) return "";
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeZone: "UTC" }).format(date);
}

/** "0.002517" (the API's decimal string) -> "US$ 0,002517"; kept exact, not rounded. */
export function formatUsd(amount) {
  if (amount === null || amount === undefined) return "";
  const [whole, fraction = ""] = String(amount).split(".");
  const separator = current === "es" ? "," : ".";
  const grouped = new Intl.NumberFormat(current).format(Number(whole));
  return `US$ ${grouped}${fraction ? separator + fraction : ""}`;
}

export function formatMinutes(minutes) {
  if (minutes === null || minutes === undefined) return "";
  return new Intl.NumberFormat(current, {
    style: "unit",
    unit: "minute",
    unitDisplay: "short",
    maximumFractionDigits: 1,
  }).format(minutes);
}
