// The records list: paging with the API's cursor (a stack of cursors for Previous); a filter by
// email, a search box, tag and status filters and sortable columns, all answered by the server
// (docs/access-patterns.md) and kept in the address, so that a search can be bookmarked. A late
// answer to an older query is dropped (each load aborts the one before and carries a number). The
// columns, the sorts and the search hint come from the record's field declarations (fields.js).
import { listRecords } from "./api.js";
import { session } from "./auth.js";
import { listColumns, recordFields, searchPlaceholder, sortOptions } from "./fields.js";
import { displayText, timeElement } from "./format.js";
import { announce, busy, el, errorBox, loading, recordHref, query, show } from "./ui.js";

const LIMITS = [10, 25, 50, 100];
const DEFAULT_LIMIT = 25;

const filterForm = document.getElementById("filter");
const emailInput = document.getElementById("filter-email");
const clearButton = document.getElementById("clear-filter");
const limitSelect = document.getElementById("limit");
const searchInput = document.getElementById("search");
const activeSelect = document.getElementById("active");
const sortSelect = document.getElementById("sort");
const tagFilters = document.getElementById("tag-filters");
const SEARCH_DELAY_MS = 300;
// The list's columns (field declarations), known once the Record schema is read.
let columns = [];
const summary = document.getElementById("summary");
const results = document.getElementById("results");
const prevButton = document.getElementById("prev");
const nextButton = document.getElementById("next");
const pageLabel = document.getElementById("page-label");

function initialState() {
  const limit = Number(query.get("limit"));
  const sort = query.get("sort") || "";
  return {
    email: query.get("email") || "",
    q: query.get("q") || "",
    tags: query.getAll("tag").filter(Boolean),
    active: ["true", "false"].includes(query.get("active")) ? query.get("active") : "",
    sort,
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
let sequence = 0; // the number of the latest load: only its answer is shown
let inflight = null; // the AbortController of the load under way
let searchTimer = null;

function saveState() {
  const params = new URLSearchParams();
  if (state.email) params.set("email", state.email);
  if (state.q) params.set("q", state.q);
  for (const tag of state.tags) params.append("tag", tag);
  if (state.active) params.set("active", state.active);
  if (state.sort) params.set("sort", state.sort);
  if (state.limit !== DEFAULT_LIMIT) params.set("limit", String(state.limit));
  const search = params.toString();
  history.replaceState({ records: state }, "", search ? `?${search}` : location.pathname);
}

function filtering() {
  return Boolean(state.q || state.tags.length || state.active);
}

function cell(label, content, className) {
  return el("td", { "data-label": label, class: className }, content);
}

const numeric = (field) => field.kind === "number" || field.kind === "integer";

/** A list shown in a row: the first few items as chips (a tag's chip filters by it), "+N" for the rest. */
const ROW_ITEMS = 3;

function chips(field, items) {
  if (!items?.length) return "—";
  const rest = items.slice(ROW_ITEMS).map(displayText);
  const chip = (item) => {
    const text = el("span", { class: "chip-text", dir: "auto" }, displayText(item));
    return field.filter === "tag"
      ? el("button", { type: "button", class: "chip chip-button", title: `Show only records tagged ${item}`, onclick: () => addTag(item) }, text)
      : el("span", { class: "chip", title: displayText(item) }, text);
  };
  return el(
    "span",
    { class: "chips-inline" },
    items.slice(0, ROW_ITEMS).map(chip),
    rest.length
      ? el("span", { class: "chip chip-more", title: rest.join(", ") }, `+${rest.length}`, el("span", { class: "visually-hidden" }, ` more: ${rest.join(", ")}`))
      : null,
  );
}

/** One cell's content, by the field's kind and use; a long text ends in an ellipsis (the whole of it
 * on hover, and on focus of the row). */
function content(field, value) {
  if (Array.isArray(value)) return chips(field, value);
  if (field.kind === "boolean") return el("span", { class: value ? "badge badge-on" : "badge" }, displayText(value));
  if (field.format === "date-time") return value ? timeElement(value, { relative: true }) : "—";
  if (field.key === "sort") return el("span", { class: "key" }, displayText(value));
  if (numeric(field)) return displayText(value);
  const text = displayText(value);
  return el("span", { class: "truncate", title: text, dir: field.key ? null : "auto" }, text);
}

/** What a column is, for its width: the record's title, a key, a list, a number, a flag, a time or text. */
function columnRole(field, index) {
  if (index === 0) return "title";
  if (field.key) return field.key === "partition" ? "partition" : "sort-key";
  if (field.kind === "array") return "list";
  if (field.kind === "boolean") return "flag";
  if (field.format === "date-time") return "time";
  return numeric(field) ? "number" : "text";
}

/** The class of a field's cell and column heading. */
function cellClass(field) {
  if (field.kind === "array") return "list-cell";
  return numeric(field) && !field.key ? "num" : null;
}

function row(record) {
  const view = recordHref("view.html", record.email, record.id);
  const [title, ...others] = columns;
  const name = displayText(record[title.name]);
  return el(
    "tr",
    {},
    el("th", { scope: "row", "data-label": title.label }, el("a", { href: view, class: "clamp", title: name, dir: "auto" }, name)),
    others.map((field) => cell(field.label, content(field, record[field.name]), cellClass(field))),
    cell("Actions", el("a", { href: recordHref("edit.html", record.email, record.id), "aria-label": `Edit ${name}` }, "Edit"), "row-actions"),
  );
}

function table(records) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "records" },
      el("caption", { class: "visually-hidden" }, `Records, page ${state.page + 1}`),
      // Fixed columns (app.css sizes them by role): a long value never widens its column.
      el("colgroup", {}, columns.map((field, index) => el("col", { class: `col-${columnRole(field, index)}` })), el("col", { class: "col-actions" })),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          columns.map((field) => (field.sort ? sortableHeading(field) : el("th", { scope: "col" }, field.label))),
          el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")),
        ),
      ),
      el("tbody", {}, records.map(row)),
    ),
  );
}

/** A column heading that sorts: a button in the th, whose aria-sort says the current order. */
function sortableHeading(spec) {
  const heading = spec.label;
  const field = spec.name;
  const current = state.sort.replace(/^-/, "") === field ? (state.sort.startsWith("-") ? "descending" : "ascending") : null;
  const next = current === "ascending" ? `-${field}` : field;
  const arrow = current === "ascending" ? " ▲" : current === "descending" ? " ▼" : "";
  return el(
    "th",
    { scope: "col", class: cellClass(spec), "aria-sort": current ?? "none" },
    el(
      "button",
      {
        type: "button",
        class: "sort-button",
        "aria-label": `${heading}, sort ${next.startsWith("-") ? "descending" : "ascending"}`,
        onclick: () => restart({ sort: next }, { focusSort: field }),
      },
      heading,
      el("span", { "aria-hidden": "true", class: "sort-arrow" }, arrow),
    ),
  );
}

function emptyState() {
  if (filtering() && state.page === 0) {
    return el(
      "div",
      { class: "empty" },
      el("p", { class: "empty-title" }, "No records match."),
      el("p", {}, describeFilters()),
      el("p", {}, el("button", { type: "button", class: "btn", onclick: clearFilters }, "Clear search and filters")),
    );
  }
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

function describeFilters() {
  const parts = [];
  if (state.q) parts.push(`“${state.q}”`);
  if (state.tags.length) parts.push(`tagged ${state.tags.join(" and ")}`);
  if (state.active) parts.push(state.active === "true" ? "active" : "inactive");
  return parts.join(", ");
}

function renderTagFilters() {
  tagFilters.hidden = state.tags.length === 0;
  tagFilters.replaceChildren(
    ...state.tags.map((tag) =>
      el("button", { type: "button", class: "chip chip-button", "aria-label": `Remove tag filter ${tag}`, onclick: () => removeTag(tag) }, tag, " ×"),
    ),
  );
}

function render(stoppedEarly = false) {
  const first = state.page * state.limit + 1;
  if (items.length === 0 && !stoppedEarly) {
    show(results, emptyState());
    summary.textContent = state.page > 0 ? `Page ${state.page + 1}: no records` : "";
  } else {
    const range = items.length
      ? `Records ${first}–${first + items.length - 1}${nextCursor ? "" : ` of ${first + items.length - 1}`}`
      : "No matches yet";
    const matching = filtering() ? ` matching ${describeFilters()}` : "";
    // The server stopped reading at its budget: Next searches on.
    const more = stoppedEarly ? " · searched part of the records; Next searches on" : "";
    summary.textContent = `${range}${matching}${more}`;
    show(results, items.length ? table(items) : el("div", { class: "empty" }, el("p", {}, "Nothing found in this part yet.")));
  }
  pageLabel.textContent = `Page ${state.page + 1}`;
  prevButton.disabled = state.page === 0;
  nextButton.disabled = !nextCursor;
}

async function load({ focusSort } = {}) {
  const mine = ++sequence;
  inflight?.abort();
  inflight = new AbortController();
  loaded = false;
  prevButton.disabled = true;
  nextButton.disabled = true;
  show(results, loading("Loading records…"));
  renderTagFilters();
  sortSelect.value = state.sort;
  saveState();
  try {
    const page = await busy(
      results,
      listRecords(
        {
          email: state.email || undefined,
          q: state.q || undefined,
          tag: state.tags,
          active: state.active || undefined,
          sort: state.sort || undefined,
          limit: state.limit,
          cursor: state.cursors[state.page] ?? undefined,
        },
        { signal: inflight.signal },
      ),
    );
    if (mine !== sequence) return; // a newer query was sent meanwhile: its answer is the one to show
    items = page.items;
    nextCursor = page.next_cursor;
    loaded = true;
    render(page.stopped_early);
    const sorted = columns.find((field) => field.name === focusSort);
    if (sorted) results.querySelector(`th[aria-sort] button[aria-label^="${sorted.label},"]`)?.focus();
  } catch (error) {
    if (mine !== sequence) return;
    items = [];
    summary.textContent = "";
    const actions = [el("button", { type: "button", class: "btn", onclick: () => load() }, "Try again")];
    if (state.page > 0) actions.push(el("button", { type: "button", class: "btn", onclick: () => restart() }, "Back to the first page"));
    show(results, errorBox(error, { title: "Could not load the records", actions }));
    prevButton.disabled = state.page === 0;
  }
}

function addTag(tag) {
  if (!state.tags.includes(tag)) restart({ tags: [...state.tags, tag] });
}

function removeTag(tag) {
  restart({ tags: state.tags.filter((t) => t !== tag) });
  searchInput.focus();
}

function clearFilters() {
  searchInput.value = "";
  activeSelect.value = "";
  restart({ q: "", tags: [], active: "" });
  searchInput.focus();
}

function restart(changes = {}, options = {}) {
  state = { ...state, ...changes, cursors: [null], page: 0 };
  return load(options);
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
searchInput.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const q = searchInput.value.trim();
    if (q !== state.q) restart({ q });
  }, SEARCH_DELAY_MS);
});
searchInput.closest("form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  restart({ q: searchInput.value.trim() });
});
activeSelect.addEventListener("change", () => restart({ active: activeSelect.value }));
sortSelect.addEventListener("change", () => restart({ sort: sortSelect.value }));
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
searchInput.value = state.q;
activeSelect.value = state.active;
clearButton.hidden = !state.email;
limitSelect.replaceChildren(...LIMITS.map((limit) => el("option", { value: String(limit), selected: limit === state.limit }, String(limit))));
/** The columns, the sort options and the search hint, from the record's field declarations. */
async function describe() {
  const fields = await recordFields();
  columns = listColumns(fields);
  const options = sortOptions(fields);
  sortSelect.replaceChildren(el("option", { value: "" }, "Default order"), ...options.map((o) => el("option", { value: o.value }, o.label)));
  if (!options.some((o) => o.value === state.sort)) state.sort = "";
  searchInput.placeholder = searchPlaceholder(fields);
}

// Signed in, a user sees their own records (the API lists their partition); an admin sees everyone's.
const signedIn = session().then((user) => {
  if (!user) return;
  document.querySelector("h1").textContent = user.admin ? "All records" : "Your records";
  if (!user.admin) filterForm.hidden = true;
}, () => {});
Promise.all([signedIn, describe()]).then(
  () => load(),
  (error) => show(results, errorBox(error, { title: "Could not load the records", actions: [el("button", { type: "button", class: "btn", onclick: () => location.reload() }, "Try again")] })),
);
