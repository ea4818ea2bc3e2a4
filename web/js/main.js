// The page's start: texts, config.json, sign-in, then the screens wired together.

import { configureApi } from "./api.js";
import { startAuth } from "./auth.js";
import { byId, show, announce } from "./dom.js";
import { initI18n, setLanguage, otherLanguage, t, onLanguageChange } from "./i18n.js";
import { initUpload } from "./upload.js";
import { initStatus } from "./status.js";
import { initHistory } from "./history.js";
import { initActa } from "./acta.js";
import { initAccount } from "./account.js";

const APP_SECTIONS = ["upload", "history", "account"];

function alertText(text) {
  const alert = byId("alert");
  alert.textContent = text || "";
  show(alert, Boolean(text));
}

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return response.json();
}

function drawLanguageSwitch() {
  const button = byId("lang-switch");
  const other = otherLanguage();
  button.textContent = t("lang.switch");
  button.lang = other;
  button.setAttribute("aria-label", t("lang.switch_label"));
}

async function main() {
  await initI18n();
  drawLanguageSwitch();
  onLanguageChange(drawLanguageSwitch);
  byId("lang-switch").addEventListener("click", () => setLanguage(otherLanguage()));

  let config;
  let auth;
  try {
    config = await loadConfig();
    auth = await startAuth(config);
  } catch (error) {
    show(byId("loading"), false);
    alertText(t("app.config_error", { detail: error.message }));
    return;
  }

  let signinNoteKey = "";
  const signinNote = byId("signin-note");
  onLanguageChange(() => {
    signinNote.textContent = signinNoteKey ? t(signinNoteKey) : "";
  });

  function showSignIn(noteKey = "") {
    status.stop();
    upload.reset();
    history.clear();
    acta.close();
    signinNoteKey = noteKey;
    signinNote.textContent = noteKey ? t(noteKey) : "";
    show(signinNote, Boolean(noteKey));
    for (const id of APP_SECTIONS) show(byId(id), false);
    show(byId("top-nav"), false);
    show(byId("loading"), false);
    const link = byId("signin-link");
    link.href = auth.signInHref();
    show(byId("signin"), true);
  }

  function showApp() {
    alertText("");
    show(byId("loading"), false);
    show(byId("signin"), false);
    show(byId("top-nav"), true);
    for (const id of APP_SECTIONS) show(byId(id), true);
    history.refresh();
    account.refresh();
  }

  configureApi({
    apiBase: config.apiBase,
    getToken: auth.getToken,
    onUnauthorized: () => {
      auth.forget();
      showSignIn("signin.expired");
    },
  });

  const status = initStatus({
    onFinished: (answer) => {
      history.refresh();
      account.refresh();
      if (answer.status === "emailed") announce(t("status.emailed_note"));
    },
    onOpen: (meetingId) => acta.open(meetingId),
  });
  const upload = initUpload({ config, onUploaded: (uploadId) => status.follow(uploadId) });
  const acta = initActa({
    onErased: (meetingId) => {
      history.remove(meetingId);
      account.refresh();
      byId("history-title").focus?.();
    },
  });
  const history = initHistory({ onOpen: (meetingId) => acta.open(meetingId) });
  const account = initAccount({
    onSignOut: async () => {
      await auth.signOut();
      showSignIn("signin.signed_out");
    },
    onErased: async () => {
      await auth.signOut();
      showSignIn("account.erased");
    },
  });

  byId("signin-link").addEventListener("click", (event) => {
    if (auth.signIn) {
      event.preventDefault();
      auth.signIn();
    }
  });
  // Clerk calls back on every session change (token refreshes too): act on sign-in/out only.
  let signedIn = auth.signedIn();
  auth.onChange(() => {
    if (auth.signedIn() === signedIn) return;
    signedIn = auth.signedIn();
    if (signedIn) showApp();
    else showSignIn();
  });

  if (signedIn) showApp();
  else showSignIn();
}

main();
