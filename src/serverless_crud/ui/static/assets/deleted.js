// Recently deleted: the records deleted within the history's retention, newest first, who deleted
// each and when, with Restore (the record comes back with its last values, as its next version).
import { listDeleted, restoreDeleted } from "./api.js";
import { displayText, timeElement } from "./format.js";
import { announce, busy, confirmDialog, el, errorBox, loading, query, recordHref, setTitle, show } from "./ui.js";

const container = document.getElementById("deleted");
const email = query.get("email") || undefined; // none: your own (an admin: everyone's)

function deleter(entry) {
  if (entry.by_email) return entry.by_email;
  return entry.by && entry.by !== "unknown" ? entry.by : "someone unknown";
}

async function restore(entry, row, button) {
  const record = entry.record;
  const confirmed = await confirmDialog({
    title: "Restore this record?",
    message: `“${displayText(record.name)}” (${record.email}, id ${record.id}) comes back with its last values, as version ${entry.version + 1}.`,
    confirm: "Restore",
  });
  if (!confirmed) return;
  button.disabled = true;
  try {
    await busy(container, restoreDeleted(record.email, record.id));
    row.replaceChildren(
      el("td", { colspan: "4" }, "Restored: ", el("a", { href: recordHref("view.html", record.email, record.id) }, displayText(record.name))),
    );
    announce(`Restored ${displayText(record.name)}`, { kind: "success" });
    row.querySelector("a")?.focus();
  } catch (error) {
    button.disabled = false;
    const title = error.status === 409 ? "Its key is in use again: open that record and restore a version there" : "Could not restore the record";
    row.after(el("tr", {}, el("td", { colspan: "4" }, errorBox(error, { title }))));
  }
}

function table(items) {
  const body = el("tbody", {});
  for (const entry of items) {
    const row = el("tr", { "data-id": String(entry.record.id) });
    const button = el("button", { type: "button", class: "btn", "aria-label": `Restore ${displayText(entry.record.name)}` }, "Restore");
    button.addEventListener("click", () => restore(entry, row, button));
    row.append(
      el("th", { scope: "row", dir: "auto" }, displayText(entry.record.name)),
      el("td", {}, `${entry.record.email} · id ${entry.record.id}`),
      el("td", {}, deleter(entry), " · ", timeElement(entry.at)),
      el("td", {}, button),
    );
    body.append(row);
  }
  return el(
    "table",
    { class: "table" },
    el("caption", { class: "visually-hidden" }, "Recently deleted records"),
    el(
      "thead",
      {},
      el("tr", {}, ["Name", "Record", "Deleted by"].map((name) => el("th", { scope: "col" }, name)), el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Restore"))),
    ),
    body,
  );
}

async function main(cursor) {
  setTitle("Recently deleted");
  const heading = el("h1", {}, "Recently deleted");
  show(container, heading, loading("Loading the deleted records…"));
  try {
    const page = await busy(container, listDeleted(email, cursor));
    const parts = [heading, el("p", { class: "subtitle" }, "Records deleted within the history's retention period. Restoring one brings it back with its last values.")];
    parts.push(page.items.length ? table(page.items) : el("p", { role: "status" }, "Nothing was deleted recently. Deleted records show here, ready to restore."));
    if (page.next_cursor) {
      parts.push(el("p", {}, el("button", { type: "button", class: "btn", onclick: () => main(page.next_cursor) }, "Older deletions")));
    }
    show(container, ...parts);
  } catch (error) {
    show(container, heading, errorBox(error, { title: "Could not load the deleted records", actions: [el("button", { type: "button", class: "btn", onclick: () => main(cursor) }, "Try again")] }));
  }
}

main(undefined);
