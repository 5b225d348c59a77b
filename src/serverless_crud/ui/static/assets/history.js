// A record's history on its page: each version with when, who (an email, never a raw id when the
// record kept one) and what changed, field by field; "Restore this version" after a confirmation
// naming it. The versions come newest first from GET …/history, a page at a time.
import { getHistory, restoreVersion } from "./api.js";
import { displayText, timeElement } from "./format.js";
import { busy, confirmDialog, el, errorBox, show } from "./ui.js";

const HOW = {
  create: "Created",
  replace: "Replaced",
  patch: "Edited",
  delete: "Deleted",
  import: "Imported",
  erase: "Erased",
  restore: "Restored",
  "outside the API": "Changed outside the API",
};

/** Who made a change: their email when the history has it, else their user id, else "unknown". */
function who(entry) {
  if (entry.by_email) return el("span", { title: `User id ${entry.by}` }, entry.by_email);
  if (!entry.by || entry.by === "unknown") return el("span", {}, "someone unknown");
  return el("code", {}, entry.by);
}

function shown(value) {
  if (value === null || value === undefined || (Array.isArray(value) && !value.length)) {
    return el("span", { class: "diff-empty" }, "(empty)");
  }
  if (Array.isArray(value)) return el("span", { dir: "auto" }, value.map(displayText).join(", "));
  return el("span", { dir: "auto", class: typeof value === "string" && value.includes("\n") ? "multiline" : null }, displayText(value));
}

function diff(entry, labels) {
  if (!entry.changes.length) {
    return el("p", { class: "subtitle" }, entry.how === "delete" ? "The record was deleted with these values kept." : "No field changed.");
  }
  return el(
    "table",
    { class: "diff" },
    el("caption", { class: "visually-hidden" }, `What version ${entry.version} changed`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Field"), el("th", { scope: "col" }, "Before"), el("th", { scope: "col" }, "After"))),
    el(
      "tbody",
      {},
      entry.changes.map((change) =>
        el(
          "tr",
          { "data-field": change.field },
          el("th", { scope: "row" }, labels.get(change.field) || change.field),
          el("td", { class: "diff-before" }, el("del", {}, shown(change.from))),
          el("td", { class: "diff-after" }, el("ins", {}, shown(change.to))),
        ),
      ),
    ),
  );
}

/**
 * The History panel of `record` (its current ETag `etag`); `labels` maps each field to its label,
 * `onRestored(record, etag)` is called with the record a restore wrote.
 */
export function historyPanel(record, etag, labels, onRestored) {
  const list = el("ol", { class: "history", reversed: true });
  const more = el("p", {});
  const status = el("div", { class: "history-status" });
  const section = el(
    "section",
    { class: "card", "aria-labelledby": "history-title", id: "history" },
    el("h2", { id: "history-title" }, "History"),
    status,
    list,
    more,
  );

  async function restore(entry, button) {
    const confirmed = await confirmDialog({
      title: `Restore version ${entry.version}?`,
      message: `The record's fields go back to how they were in version ${entry.version}. This saves a new version; nothing is lost.`,
      confirm: `Restore version ${entry.version}`,
    });
    if (!confirmed) return;
    button.disabled = true;
    try {
      const restored = await busy(section, restoreVersion(record.email, record.id, entry.version, etag));
      onRestored(restored.record, restored.etag, entry.version);
    } catch (error) {
      button.disabled = false;
      const title =
        error.status === 412 ? "This record changed since you opened it: reload it, then restore" : `Could not restore version ${entry.version}`;
      show(status, errorBox(error, { title, actions: [el("button", { type: "button", class: "btn", onclick: () => location.reload() }, "Reload the record")] }));
      status.querySelector("[role=alert]")?.focus();
    }
  }

  function item(entry) {
    const current = entry.version === record.version && entry.how !== "delete";
    const heading = el(
      "h3",
      {},
      `Version ${entry.version} · ${HOW[entry.how] || entry.how} `,
      el("span", { class: "subtitle" }, "by ", who(entry), " · ", timeElement(entry.at)),
    );
    const actions = [];
    if (current) {
      actions.push(el("span", { class: "badge" }, "Current version"));
    } else if (entry.how !== "delete") {
      const button = el("button", { type: "button", class: "btn" }, "Restore this version", el("span", { class: "visually-hidden" }, ` (version ${entry.version})`));
      button.addEventListener("click", () => restore(entry, button));
      actions.push(button);
    }
    return el("li", { class: "history-entry", "data-version": String(entry.version) }, heading, diff(entry, labels), el("p", { class: "actions" }, actions));
  }

  async function load(cursor) {
    show(more, el("span", { class: "loading", role: "status" }, "Loading the history…"));
    try {
      const page = await busy(section, getHistory(record.email, record.id, cursor));
      list.append(...page.items.map(item));
      if (!list.children.length) {
        show(status, el("p", { class: "subtitle", role: "status" }, "No history yet: changes show here a moment after they are saved."));
      }
      if (page.next_cursor) {
        const button = el("button", { type: "button", class: "btn" }, "Show older versions");
        button.addEventListener("click", () => load(page.next_cursor));
        show(more, button);
      } else {
        show(more);
      }
    } catch (error) {
      show(more, errorBox(error, { title: "Could not load the history", actions: [el("button", { type: "button", class: "btn", onclick: () => load(cursor) }, "Try again")] }));
    }
  }

  load(null);
  return section;
}

/**
 * An Undo notice for a few seconds after a save or a delete (role=status: read out; the button is
 * the next thing a keyboard reaches). `undo()` does it; `done(message)` says what happened.
 */
export function undoNotice(container, text, undo, seconds = 10) {
  const button = el("button", { type: "button", class: "btn" }, "Undo");
  const box = el("div", { class: "alert alert-info undo", role: "status" }, el("p", {}, text, " "), el("p", { class: "actions" }, button));
  // It goes after a few seconds, unless the keyboard is on it.
  const expire = () => (box.contains(document.activeElement) ? (timer = setTimeout(expire, 2000)) : box.remove());
  let timer = setTimeout(expire, seconds * 1000);
  button.addEventListener("click", async () => {
    clearTimeout(timer);
    button.disabled = true;
    try {
      const message = await undo();
      show(box, el("p", {}, message));
    } catch (error) {
      box.replaceWith(errorBox(error, { title: "Could not undo" }));
    }
  });
  container.append(box);
  return box;
}
