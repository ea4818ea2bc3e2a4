// The account panel: GET /me (address, totals, this month's quota), sign out,
// and DELETE /me after a confirmation.

import { api } from "./api.js";
import { byId, fillDetails, announce } from "./dom.js";
import { t, formatMinutes, formatUsd, formatDateTime, onLanguageChange } from "./i18n.js";
import { describeError } from "./errors.js";
import { confirmErase } from "./dialog.js";

export function initAccount({ onSignOut, onErased }) {
  const details = byId("account-details");
  let me = null;

  function draw() {
    if (!me) return;
    const quota = me.quota || {};
    const used = formatMinutes(quota.used_this_month_minutes || 0);
    fillDetails(details, [
      [t("account.email"), me.user.email],
      [t("account.since"), formatDateTime(me.user.signed_up_at)],
      [t("account.meetings"), String(me.totals.meetings)],
      [t("account.minutes"), formatMinutes(me.totals.audio_minutes || 0)],
      [t("account.cost"), formatUsd(me.totals.cost_usd)],
      [
        t("account.quota"),
        quota.monthly_audio_minutes
          ? t("account.quota_of", { used, quota: formatMinutes(quota.monthly_audio_minutes) })
          : used,
      ],
    ]);
  }
  onLanguageChange(draw);

  byId("sign-out").addEventListener("click", () => onSignOut());
  byId("account-erase").addEventListener("click", async () => {
    const ok = await confirmErase({ titleKey: "confirm.erase_account_title", textKey: "confirm.erase_account" });
    if (!ok) return;
    try {
      await api.eraseMe();
    } catch (error) {
      announce(describeError(error));
      byId("alert").textContent = describeError(error);
      byId("alert").hidden = false;
      return;
    }
    onErased();
  });

  return {
    async refresh() {
      try {
        me = await api.me();
        draw();
      } catch (error) {
        details.replaceChildren();
        byId("alert").textContent = describeError(error);
        byId("alert").hidden = false;
      }
    },
  };
}
