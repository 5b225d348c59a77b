// The records list: paging with the API's cursor (a stack of cursors for Previous), a filter by
// email (server side), a search box (client side, over the loaded page only), counts and states.
import { listRecords } from "./api.js";
import { session } from "./auth.js";
import { displayText, timeElement } from "./format.js";
import { announce, busy, el, errorBox, loading, recordHref, query, show } from "./ui.js";

const LIMITS = [10, 25, 50, 100];
const DEFAULT_LIMIT = 25;

const filterForm = document.getElementById("filter");
const emailInput = document.getElementById("filter-email");
const clearButton = document.getElementById("clear-filter");
const limitSelect = document.getElementById("limit");
const searchInput = document.getElementById("search");
const summary = document.getElementById("summary");
const results = document.getElementById("results");
const prevButton = document.getElementById("prev");
const nextButton = document.getElementById("next");
const pageLabel = document.getElementById("page-label");

function initialState() {
  const limit = Number(query.get("limit"));
  return {
    email: query.get("email") || "",
    limit: LIMITS.includes(limit) ? limit : DEFAULT_LIMIT,
    cursors: [null],
    page: 0,
  };
}

// Coming back (Back button, reload) restores the page the user was on.
let state = history.state?.records ?? initialState();
let items = [];
let nextCursor = null;
let loaded = false;

function saveState() {
  const params = new URLSearchParams();
  if (state.email) params.set("email", state.email);
  if (state.limit !== DEFAULT_LIMIT) params.set("limit", String(state.limit));
  const search = params.toString();
  history.replaceState({ records: state }, "", search ? `?${search}` : location.pathname);
}

function matches(record, needle) {
  return Object.values(record).some((value) => displayText(value).toLowerCase().includes(needle));
}

function cell(label, content, className) {
  return el("td", { "data-label": label, class: className }, content);
}

function row(record) {
  const view = recordHref("view.html", record.email, record.id);
  return el(
    "tr",
    {},
    el("th", { scope: "row", "data-label": "Name" }, el("a", { href: view }, displayText(record.name))),
    cell("Email", displayText(record.email), "email"),
    cell("Id", el("code", {}, displayText(record.id))),
    cell(
      "Tags",
      record.tags?.length ? el("span", { class: "chips-inline" }, record.tags.map((tag) => el("span", { class: "chip" }, tag))) : "—",
    ),
    cell("Amount", displayText(record.amount), "num"),
    cell("Active", el("span", { class: record.active ? "badge badge-on" : "badge" }, displayText(record.active))),
    cell("Updated", record.updated_at ? timeElement(record.updated_at, { relative: true }) : "—"),
    cell("Actions", el("a", { href: recordHref("edit.html", record.email, record.id), "aria-label": `Edit ${record.name}` }, "Edit"), "row-actions"),
  );
}

function table(records) {
  const headings = ["Name", "Email", "Id", "Tags", "Amount", "Active", "Updated"];
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "records" },
      el("caption", { class: "visually-hidden" }, `Records, page ${state.page + 1}`),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          headings.map((heading) => el("th", { scope: "col", class: heading === "Amount" ? "num" : null }, heading)),
          el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")),
        ),
      ),
      el("tbody", {}, records.map(row)),
    ),
  );
}

function emptyState() {
  if (state.page > 0) {
    return el("div", { class: "empty" }, el("p", {}, "No more records."), el("p", {}, "Use Previous to go back."));
  }
  if (state.email) {
    return el(
      "div",
      { class: "empty" },
      el("p", { class: "empty-title" }, `No records for ${state.email}.`),
      el("p", {}, el("a", { class: "btn btn-primary", href: `edit.html?${new URLSearchParams({ email: state.email })}` }, "New record")),
    );
  }
  return el(
    "div",
    { class: "empty" },
    el("p", { class: "empty-title" }, "No records yet."),
    el("p", {}, "Records you create appear here."),
    el("p", {}, el("a", { class: "btn btn-primary", href: "edit.html" }, "Create the first record")),
  );
}

function render() {
  const needle = searchInput.value.trim().toLowerCase();
  const shown = needle ? items.filter((record) => matches(record, needle)) : items;
  const first = state.page * state.limit + 1;
  if (items.length === 0) {
    show(results, emptyState());
    summary.textContent = state.page > 0 ? `Page ${state.page + 1}: no records` : "";
  } else {
    const range = `Records ${first}–${first + items.length - 1}${nextCursor ? "" : ` of ${first + items.length - 1}`}`;
    summary.textContent = needle ? `${range} · ${shown.length} of ${items.length} on this page match “${searchInput.value.trim()}”` : range;
    show(
      results,
      shown.length ? table(shown) : el("div", { class: "empty" }, el("p", {}, `Nothing on this page matches “${searchInput.value.trim()}”.`)),
    );
  }
  pageLabel.textContent = `Page ${state.page + 1}`;
  prevButton.disabled = state.page === 0;
  nextButton.disabled = !nextCursor;
}

async function load() {
  loaded = false;
  prevButton.disabled = true;
  nextButton.disabled = true;
  show(results, loading("Loading records…"));
  saveState();
  try {
    const page = await busy(
      results,
      listRecords({ email: state.email || undefined, limit: state.limit, cursor: state.cursors[state.page] ?? undefined }),
    );
    items = page.items;
    nextCursor = page.next_cursor;
    loaded = true;
    render();
  } catch (error) {
    items = [];
    summary.textContent = "";
    const actions = [el("button", { type: "button", class: "btn", onclick: load }, "Try again")];
    if (state.page > 0) actions.push(el("button", { type: "button", class: "btn", onclick: () => restart() }, "Back to the first page"));
    show(results, errorBox(error, { title: "Could not load the records", actions }));
    prevButton.disabled = state.page === 0;
  }
}

function restart(changes = {}) {
  state = { ...state, ...changes, cursors: [null], page: 0 };
  return load();
}

async function turn(step) {
  const button = step > 0 ? nextButton : prevButton;
  if (step > 0) {
    state.cursors = [...state.cursors.slice(0, state.page + 1), nextCursor];
  }
  state.page += step;
  await load();
  if (!loaded) return;
  announce(`Page ${state.page + 1}: ${items.length} record${items.length === 1 ? "" : "s"}`);
  if (button.disabled) (step > 0 ? prevButton : nextButton).focus();
}

filterForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const email = emailInput.value.trim().toLowerCase();
  clearButton.hidden = !email;
  restart({ email });
});
clearButton.addEventListener("click", () => {
  emailInput.value = "";
  clearButton.hidden = true;
  emailInput.focus();
  restart({ email: "" });
});
limitSelect.addEventListener("change", () => restart({ limit: Number(limitSelect.value) }));
searchInput.addEventListener("input", () => loaded && render());
prevButton.addEventListener("click", () => turn(-1));
nextButton.addEventListener("click", () => turn(1));
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    searchInput.focus();
  }
});

emailInput.value = state.email;
clearButton.hidden = !state.email;
limitSelect.replaceChildren(...LIMITS.map((limit) => el("option", { value: String(limit), selected: limit === state.limit }, String(limit))));
// Signed in, a user sees their own records (the API lists their partition); an admin sees everyone's.
session()
  .then((user) => {
    if (!user) return;
    document.querySelector("h1").textContent = user.admin ? "All records" : "Your records";
    if (!user.admin) filterForm.hidden = true;
  }, () => {})
  .then(load);
