// One record: every field (in the order of the field declarations, fields.js: the key, the client's
// fields, the server's; then any others), people by email; Edit, and Delete after a confirmation; its
// history (history.js).
import { deleteRecord, getRecord } from "./api.js";
import { recordFields } from "./fields.js";
import { displayText, isTimestamp, timeElement } from "./format.js";
import { historyPanel } from "./history.js";
import { announce, busy, confirmDialog, copyButton, el, errorBox, loading, query, recordHref, setTitle, show } from "./ui.js";

const container = document.getElementById("record");
const email = query.get("email");
const id = query.get("id");

/** A person: their email when the record keeps it, else their user id (rows written before). */
function person(id, email) {
  if (email) return el("span", { title: id ? `User id ${id}` : null }, email);
  return el("code", {}, displayText(id));
}

function value(name, record, field, fields) {
  const item = record[name];
  const emailField = fields.find((other) => other.emailOf === name);
  if (emailField) return person(item, record[emailField.name]);
  if (Array.isArray(item)) {
    return item.length ? el("ul", { class: "chips" }, item.map((tag) => el("li", { class: "chip", dir: "auto" }, displayText(tag)))) : "—";
  }
  if (typeof item === "string" && isTimestamp(name, field)) return timeElement(item);
  if (typeof item === "boolean") {
    return el("span", { class: item ? "badge badge-on" : "badge" }, displayText(item));
  }
  const text = displayText(item);
  if (field?.key) return [el("code", {}, text), copyButton(text, name)];
  return el("span", { class: typeof item === "string" && text.includes("\n") ? "multiline" : null, dir: "auto" }, text);
}

function details(record, fields) {
  const byName = new Map(fields.map((field) => [field.name, field]));
  const names = [...byName.keys(), ...Object.keys(record).filter((name) => !byName.has(name))];
  return el(
    "dl",
    { class: "fields" },
    names
      .filter((name) => name in record && !byName.get(name)?.emailOf)
      .map((name) =>
        el(
          "div",
          { class: "field-row", "data-field": name },
          el("dt", {}, byName.get(name)?.label || name),
          el("dd", {}, value(name, record, byName.get(name), fields)),
        ),
      ),
  );
}

async function remove(record, etag, button) {
  const confirmed = await confirmDialog({
    title: "Delete this record?",
    message: `“${record.name}” (${record.email}, id ${record.id}) will be deleted. This cannot be undone.`,
    confirm: "Delete",
    danger: true,
  });
  if (!confirmed) return;
  button.disabled = true;
  const status = document.getElementById("action-status");
  try {
    await busy(container, deleteRecord(record.email, record.id, etag));
    location.assign(recordHref("success.html", record.email, record.id, { action: "deleted", name: record.name, version: record.version }));
  } catch (error) {
    button.disabled = false;
    const reload = el("button", { type: "button", class: "btn", onclick: () => location.reload() }, "Reload the record");
    if (error.status === 412) {
      show(status, errorBox(error, { title: "This record changed since you opened it", actions: [reload] }));
    } else if (error.status === 404) {
      show(status, errorBox(error, { title: "This record no longer exists", actions: [el("a", { class: "btn", href: "./" }, "Back to the records")] }));
    } else {
      show(status, errorBox(error, { title: "Could not delete the record" }));
    }
    status.querySelector("[role=alert]")?.focus();
  }
}

function render(record, etag, fields) {
  setTitle(record.name || "Record");
  const deleteButton = el("button", { type: "button", class: "btn btn-danger" }, "Delete");
  deleteButton.addEventListener("click", () => remove(record, etag, deleteButton));
  show(
    container,
    el(
      "div",
      { class: "page-head" },
      el("div", {}, el("h1", { dir: "auto" }, displayText(record.name)), el("p", { class: "subtitle" }, `${record.email} · id ${record.id} · version ${record.version}`)),
      el(
        "p",
        { class: "actions" },
        el("a", { class: "btn btn-primary", href: recordHref("edit.html", record.email, record.id) }, "Edit"),
        deleteButton,
      ),
    ),
    el("div", { id: "action-status" }),
    el("section", { class: "card", "aria-label": "Fields" }, details(record, fields)),
    historyPanel(record, etag, new Map(fields.map((field) => [field.name, field.label || field.name])), (restored, _etag, version) => {
      announce(`Version ${version} restored as version ${restored.version}`, { kind: "success" });
      main().then(() => document.querySelector("h1")?.focus());
    }),
    el("p", {}, el("a", { href: "./" }, "← All records")),
  );
}

async function main() {
  if (!email || !id) {
    show(container, el("h1", {}, "No record chosen"), el("p", {}, el("a", { href: "./" }, "Choose one from the list.")));
    return;
  }
  show(container, el("h1", {}, "Record"), loading("Loading the record…"));
  try {
    const [{ record, etag }, fields] = await busy(
      container,
      Promise.all([getRecord(email, id), recordFields().catch(() => [])]),
    );
    render(record, etag, fields);
  } catch (error) {
    const title = error.status === 404 ? "This record does not exist" : "Could not load the record";
    const actions = [el("a", { class: "btn", href: "./" }, "Back to the records")];
    if (error.status !== 404) actions.unshift(el("button", { type: "button", class: "btn", onclick: main }, "Try again"));
    show(container, el("h1", {}, "Record"), errorBox(error, { title, actions }));
  }
}

main();
