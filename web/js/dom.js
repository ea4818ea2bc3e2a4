// Small DOM helpers shared by the screens. Everything that comes from the API or
// from the model's acta is written with textContent, never as HTML.

/** The element with this id (every element the page uses has one). */
export function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id} in index.html`);
  return found;
}

/** A new element: h("li", {class: "x", dataset: {testid: "y"}}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

/** A definition list filled from [label, value] pairs; empty values are left out. */
export function fillDetails(dl, pairs) {
  dl.replaceChildren();
  for (const [label, value] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    dl.append(h("dt", {}, label), h("dd", {}, value));
  }
}

/** Say something to screen readers without moving the focus. */
export function announce(text) {
  const live = byId("announcer");
  live.textContent = "";
  // A fresh text node after a tick is read again even when it repeats.
  window.setTimeout(() => {
    live.textContent = text;
  }, 50);
}

/** A link is followed only when it is http(s): never a javascript: URL from a response. */
export function safeHref(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}
