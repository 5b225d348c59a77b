// What was just done (created, updated, deleted), with links onward.
import { restoreDeleted, restoreVersion } from "./api.js";
import { undoNotice } from "./history.js";
import { el, query, recordHref, setTitle, show } from "./ui.js";

const action = query.get("action");
const email = query.get("email");
const id = query.get("id");
const name = query.get("name") || "The record";
const version = Number(query.get("version"));
const container = document.getElementById("outcome");

const HEADINGS = { created: "Record created", updated: "Changes saved", deleted: "Record deleted" };
const heading = HEADINGS[action] || "Done";
const who = email && id ? ["“", el("bdi", {}, name), `” (${email}, id ${id})`] : [el("bdi", {}, name)];
const verb = { created: "created", updated: "updated", deleted: "deleted" }[action];
const sentence = verb ? [...who, ` was ${verb}.`] : null;

const links = [];
if (email && id && action !== "deleted") {
  links.push(el("a", { class: "btn btn-primary", href: recordHref("view.html", email, id) }, "View the record"));
  links.push(el("a", { class: "btn", href: recordHref("edit.html", email, id) }, "Edit it again"));
}
links.push(el("a", { class: action === "deleted" ? "btn btn-primary" : "btn", href: "./" }, "All records"));
links.push(el("a", { class: "btn", href: "edit.html" }, action === "created" ? "Create another" : "New record"));

setTitle(heading);
const title = el("h1", { tabindex: "-1" }, el("span", { class: "check", "aria-hidden": "true" }, "✓"), heading);
const card = el("div", { class: "card success" }, title, sentence ? el("p", {}, ...sentence) : null);
show(container, card);
title.focus();

// Undo, for a few seconds: a save goes back to the version before it, a deletion is restored.
if (email && id && version >= 1 && (action === "deleted" || (action === "updated" && version > 1))) {
  const view = () => el("a", { href: recordHref("view.html", email, id) }, "View it");
  const undo =
    action === "deleted"
      ? async () => {
          await restoreDeleted(email, id);
          return ["Undone: the record is back. ", view()];
        }
      : async () => {
          const restored = await restoreVersion(email, id, version - 1, `"${version}"`);
          return [`Undone: version ${version - 1}'s values are back, as version ${restored.record.version}. `, view()];
        };
  undoNotice(card, action === "deleted" ? "Deleted by mistake?" : "Saved by mistake?", undo);
}
card.append(el("p", { class: "actions" }, links));
