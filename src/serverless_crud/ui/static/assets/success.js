// What was just done (created, updated, deleted), with links onward.
import { el, query, recordHref, setTitle, show } from "./ui.js";

const action = query.get("action");
const email = query.get("email");
const id = query.get("id");
const name = query.get("name") || "The record";
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
show(container, el("div", { class: "card success" }, title, sentence ? el("p", {}, ...sentence) : null, el("p", { class: "actions" }, links)));
title.focus();
