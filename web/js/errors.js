// An API error as a sentence for the person: the known codes in the page's
// language (the API writes its messages in English), the rest as the API said.

import { t, formatDuration } from "./i18n.js";

const KNOWN = new Set([
  "network",
  "unauthenticated",
  "forbidden",
  "not_found",
  "too_large",
  "unsupported_type",
  "monthly_quota",
  "daily_spend_limit",
  "resend_limit",
  "not_ready",
  "recipient_suppressed",
  "transient_error",
]);

export function describeError(error) {
  const code = error && error.code;
  let text;
  if (code === "bad_request" && error.fields) {
    const fields = Object.entries(error.fields).map(([name, problem]) => `${name}: ${problem}`);
    text = t("error.bad_request", { fields: fields.join("; ") });
  } else if (KNOWN.has(code)) {
    text = t(`error.${code}`);
  } else if (error && error.message && error.status) {
    text = error.message;
  } else {
    text = t("error.generic");
  }
  if (error && error.retryAfterS !== null && error.retryAfterS !== undefined && error.status === 429) {
    text += ` ${t("error.retry_after", { time: formatDuration(error.retryAfterS) })}`;
  }
  return text;
}
