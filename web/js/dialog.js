// One confirmation dialog for every erasure: a native <dialog> (focus kept
// inside, Escape cancels), resolved true only by the confirm button; the focus
// goes back to the button that opened it.

import { byId } from "./dom.js";
import { t } from "./i18n.js";

export function confirmErase({ titleKey, textKey, vars = {} }) {
  const dialog = byId("confirm-dialog");
  const opener = document.activeElement;
  byId("confirm-title").textContent = t(titleKey, vars);
  byId("confirm-text").textContent = t(textKey, vars);
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener && typeof opener.focus === "function" && document.contains(opener)) opener.focus();
        resolve(dialog.returnValue === "confirm");
      },
      { once: true },
    );
    dialog.showModal();
    // The safe choice has the focus: Enter does not erase by accident.
    dialog.querySelector('[value="cancel"]').focus();
  });
}
