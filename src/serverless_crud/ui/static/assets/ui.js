// Page building blocks shared by every page: DOM helpers, status messages, dialogs, links.

/** Create an element: el("a", {href: "x", class: "btn"}, "text", child). Text is never parsed as HTML. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name in element && typeof value !== "string") {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : value);
    }
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** The current page's query parameters. */
export const query = new URLSearchParams(location.search);

/** A link to a page about one record (`view.html`, `edit.html`...). */
export function recordHref(page, email, id, extra = {}) {
  return `${page}?${new URLSearchParams({ email, id: String(id), ...extra })}`;
}

let toastTimer = null;

/** Say something in the page's polite live region (read out by screen readers, shown as a toast). */
export function announce(message, { kind = "info" } = {}) {
  const region = document.getElementById("status");
  if (!region) return;
  region.textContent = "";
  region.append(el("p", { class: `toast toast-${kind}` }, message));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    region.textContent = "";
  }, 6000);
}

/** An error box (role=alert) for an ApiError or any error, with optional action buttons. */
export function errorBox(error, { title, actions = [] } = {}) {
  // Not reaching the server at all says so first; otherwise say what could not be done.
  const heading = (error.network && error.title) || title || error.title || "Something went wrong";
  let detail = error.detail || error.message || "";
  if (error.status === 503 && error.retryAfter) {
    detail = `${detail} (retry in ${error.retryAfter} s)`;
  }
  return el(
    "div",
    { class: "alert alert-error", role: "alert", tabindex: "-1" },
    el("p", { class: "alert-title" }, heading),
    detail && el("p", {}, detail),
    actions.length ? el("p", { class: "actions" }, ...actions) : null,
  );
}

/** A notice (not an error): kind "info", "success" or "warning"; role=status, so it is read out
 * without interrupting. */
export function notice(title, text, { kind = "info", actions = [] } = {}) {
  return el(
    "div",
    { class: `alert alert-${kind}`, role: "status" },
    el("p", { class: "alert-title" }, title),
    text ? el("p", {}, text) : null,
    actions.length ? el("p", { class: "actions" }, ...actions) : null,
  );
}

/** Replace the children of `container`. */
export function show(container, ...children) {
  container.replaceChildren(...children.flat().filter(Boolean));
}

/** A button that copies `text` to the clipboard and says so. */
export function copyButton(text, label) {
  return el(
    "button",
    {
      type: "button",
      class: "btn-icon",
      "aria-label": `Copy ${label}`,
      title: `Copy ${label}`,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text);
          announce(`Copied ${label}`);
        } catch {
          announce(`Could not copy; select the ${label} and copy it by hand`, { kind: "error" });
        }
      },
    },
    copyIcon(),
  );
}

function copyIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  for (const d of ["M9 9h11v11H9z", "M5 15H4V4h11v1"]) {
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** Ask a yes/no question in a modal <dialog>; resolves true when confirmed. Focus returns after. */
export function confirmDialog({ title, message, confirm, danger = false }) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const titleId = `dialog-title-${Date.now()}`;
    const cancelButton = el("button", { type: "button", class: "btn", onclick: () => dialog.close("cancel") }, "Cancel");
    const dialog = el(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId },
      el("h2", { id: titleId }, title),
      el("p", {}, message),
      el(
        "p",
        { class: "actions" },
        cancelButton,
        el(
          "button",
          { type: "button", class: danger ? "btn btn-danger" : "btn btn-primary", onclick: () => dialog.close("confirm") },
          confirm,
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      opener?.focus?.();
      resolve(dialog.returnValue === "confirm");
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelButton.focus();
  });
}

/** Mark a region busy (aria-busy) while `promise` runs; returns the promise's result. */
export async function busy(region, promise) {
  region.setAttribute("aria-busy", "true");
  try {
    return await promise;
  } finally {
    region.removeAttribute("aria-busy");
  }
}

/** A "Loading…" placeholder announced to screen readers. */
export function loading(text = "Loading…") {
  return el("p", { class: "loading", role: "status" }, el("span", { class: "spinner", "aria-hidden": "true" }), text);
}

/** Set the document title as "<what> · serverless-crud". */
export function setTitle(what) {
  document.title = `${what} · serverless-crud`;
}
