// Sign-in. Two modes, read from config.json:
// * dev (make up only): the local issuer's page mints a token and sends the
//   browser back to return_to#token=<jwt>; the token is kept in sessionStorage
//   (gone with the tab) and the fragment removed from the address bar.
// * clerk (deployed): Clerk's own script, from the instance's Frontend API host
//   that the publishable key encodes; a fresh token from the JWT template per
//   request (Clerk's tokens live 60 s).

const TOKEN_KEY = "voxcliente.token";

function decodePayload(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = part + "=".repeat((4 - (part.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function devAuth(config) {
  const match = /^#token=([A-Za-z0-9._-]+)$/.exec(window.location.hash);
  if (match) {
    storage()?.setItem(TOKEN_KEY, match[1]);
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  const current = () => {
    const token = storage()?.getItem(TOKEN_KEY);
    const claims = token ? decodePayload(token) : null;
    // A token that expires within 30 s would fail mid-upload: sign in again.
    if (!claims || !claims.exp || claims.exp * 1000 < Date.now() + 30_000) return null;
    return { token, claims };
  };
  return {
    mode: "dev",
    signedIn: () => current() !== null,
    email: () => current()?.claims.email || "",
    getToken: async () => current()?.token || null,
    signInHref: () =>
      `${config.auth.signInUrl || "/auth/sign-in"}?return_to=${encodeURIComponent(window.location.pathname)}`,
    signIn: null,
    signOut: async () => storage()?.removeItem(TOKEN_KEY),
    forget: () => storage()?.removeItem(TOKEN_KEY),
    onChange: () => {},
  };
}

/** The Frontend API host a publishable key encodes: pk_test_<base64("host$")>. */
export function clerkHost(publishableKey) {
  const match = /^pk_(test|live)_([A-Za-z0-9+/=_-]+)$/.exec(publishableKey || "");
  if (!match) return null;
  let decoded;
  try {
    decoded = atob(match[2].replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const host = decoded.replace(/\$$/, "");
  return /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(host) ? host : null;
}

function loadScript(src, publishableKey) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.crossOrigin = "anonymous";
    script.dataset.clerkPublishableKey = publishableKey;
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new Error(`could not load ${src}`)));
    document.head.append(script);
  });
}

async function clerkAuth(config) {
  const { publishableKey, jwtTemplate = "voxcliente" } = config.auth;
  const host = clerkHost(publishableKey);
  if (!host) throw new Error("config.json: auth.publishableKey is not a Clerk publishable key");
  // Clerk's browser bundle, served by the instance itself (the only external script).
  await loadScript(`https://${host}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`, publishableKey);
  const clerk = window.Clerk;
  await clerk.load();
  return {
    mode: "clerk",
    signedIn: () => Boolean(clerk.user),
    email: () => clerk.user?.primaryEmailAddress?.emailAddress || "",
    getToken: async () => (clerk.session ? clerk.session.getToken({ template: jwtTemplate }) : null),
    signInHref: () => "#",
    signIn: () => clerk.openSignIn({}),
    signOut: () => clerk.signOut(),
    forget: () => {},
    onChange: (listener) => clerk.addListener(listener),
  };
}

export async function startAuth(config) {
  return config.auth && config.auth.mode === "clerk" ? clerkAuth(config) : devAuth(config);
}
