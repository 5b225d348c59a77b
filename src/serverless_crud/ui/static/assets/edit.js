// Create (edit.html) or edit (edit.html?email=…&id=…) a record with a form generated from the
// published schema: RecordCreate for create, RecordFields for edit. Saving sends POST, or PUT with
// If-Match (the ETag read when the form loaded); a 412 offers to load their version or overwrite.
import { componentSchema, createRecord, getRecord, replaceRecord, stringifyJson } from "./api.js";
import { session } from "./auth.js";
import { displayText } from "./format.js";
import { fieldSpecs, schemaForm } from "./schema-form.js";
import { announce, el, errorBox, loading, query, recordHref, setTitle, show } from "./ui.js";

const container = document.getElementById("editor");
const email = query.get("email");
const id = query.get("id");
const editing = Boolean(email && id);
if (editing) document.querySelector('nav [aria-current="page"]')?.removeAttribute("aria-current");

let controller = null;
let loaded = null; // the record as it was when the form loaded (or was reloaded)
let etag = null;
let saving = false;
let pristine = null; // the form's values when it was built or last reloaded, to tell unsaved changes
let attempt = null; // {body, key}: the create last sent, so that its retry reuses the key

/** One Idempotency-Key per create: the same while the values are the same (a retry), a new one
 * when they changed (a new create, which the server would otherwise refuse with 422). */
function createKey(values) {
  const body = stringifyJson(values);
  if (attempt?.body !== body) {
    // getRandomValues, not randomUUID: it works on plain-HTTP pages too.
    const key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    attempt = { body, key };
  }
  return attempt.key;
}

function snapshot() {
  return controller ? stringifyJson(controller.values()) : null;
}

function hasUnsavedChanges() {
  return !saving && pristine !== null && snapshot() !== pristine;
}

// Leaving with unsaved changes (a link, Cancel, closing the tab) asks first.
window.addEventListener("beforeunload", (event) => {
  if (hasUnsavedChanges()) event.preventDefault();
});

function summaryBox(unmatched) {
  const shown = controller.shownErrors();
  const count = shown.length + unmatched.length;
  return el(
    "div",
    { class: "alert alert-error", role: "alert", tabindex: "-1", id: "error-summary-box" },
    el("p", { class: "alert-title" }, count === 1 ? "There is a problem" : `There are ${count} problems`),
    el(
      "ul",
      {},
      shown.map(({ id: inputId, message }) =>
        el("li", {}, el("a", { href: `#${inputId}`, onclick: (event) => { event.preventDefault(); document.getElementById(inputId)?.focus(); } }, message)),
      ),
      unmatched.map(({ field, message }) => el("li", {}, field && field !== "body" ? `${field}: ${message}` : message)),
    ),
  );
}

function showProblems(problems, summary) {
  const unmatched = controller.showErrors(problems);
  show(summary, summaryBox(unmatched));
  summary.firstChild.focus();
}

function changedFields(mine, theirs) {
  return Object.keys(theirs)
    .filter((name) => controller.has(name) && displayText(mine?.[name]) !== displayText(theirs[name]))
    .map((name) => document.querySelector(`label[for="f-${name}"]`)?.firstChild?.textContent || name);
}

async function conflict(error, summary, form) {
  let latest = null;
  let latestEtag = error.etag;
  try {
    ({ record: latest, etag: latestEtag } = await getRecord(email, id));
  } catch {
    // The message below still stands; the buttons reload or retry.
  }
  const changed = latest ? changedFields(loaded, latest) : [];
  const loadTheirs = el("button", { type: "button", class: "btn" }, "Load their version (discard my changes)");
  const overwrite = el("button", { type: "button", class: "btn btn-danger" }, "Overwrite with my changes");
  loadTheirs.addEventListener("click", async () => {
    if (!latest) {
      location.reload();
      return;
    }
    loaded = latest;
    etag = latestEtag;
    controller.setValues(latest);
    pristine = snapshot();
    controller.clearErrors();
    show(summary);
    describe();
    announce(`Loaded version ${latest.version}`);
    form.querySelector("input, textarea, select")?.focus();
  });
  overwrite.addEventListener("click", () => {
    etag = latestEtag;
    if (latest) loaded = latest;
    show(summary);
    form.requestSubmit();
  });
  show(
    summary,
    el(
      "div",
      { class: "alert alert-warning", role: "alert", tabindex: "-1" },
      el("p", { class: "alert-title" }, "This record changed since you opened it"),
      el(
        "p",
        {},
        latest
          ? `Someone saved version ${latest.version} while you were editing version ${loaded.version}.` +
              (changed.length ? ` They changed: ${changed.join(", ")}.` : "")
          : error.detail,
      ),
      el("p", {}, "Your changes are still in the form. Load their version, or overwrite it with yours."),
      el("p", { class: "actions" }, loadTheirs, overwrite),
    ),
  );
  summary.firstChild.focus();
}

function handleError(error, summary, form) {
  if (error.status === 422 && error.errors.length) {
    showProblems(error.errors, summary);
  } else if (error.status === 412) {
    conflict(error, summary, form);
  } else if (error.status === 409 && !editing && controller.has("id") && controller.values().id !== null) {
    showProblems([{ field: "id", message: "is already used by another record with this email" }], summary);
  } else {
    const title = error.status === 404 && editing ? "This record no longer exists" : "Could not save the record";
    show(summary, errorBox(error, { title }));
    summary.firstChild.focus();
  }
}

function describe() {
  const context = document.getElementById("edit-context");
  if (context && loaded) context.textContent = `${loaded.email} · id ${loaded.id} · version ${loaded.version}`;
}

function build(specs, record) {
  const heading = editing ? `Edit ${displayText(record.name)}` : "New record";
  setTitle(heading);
  const fieldsBox = el("div", { class: "fields-grid" });
  const summary = el("div", { id: "error-summary" });
  const submit = el("button", { type: "submit", class: "btn btn-primary" }, editing ? "Save changes" : "Create record");
  const cancelHref = editing ? recordHref("view.html", email, id) : "./";
  const form = el(
    "form",
    { id: "record-form", class: "card", novalidate: true, "aria-labelledby": "edit-heading" },
    summary,
    fieldsBox,
    el("p", { class: "actions form-actions" }, submit, el("a", { class: "btn", href: cancelHref }, "Cancel")),
  );
  show(
    container,
    el("div", { class: "page-head" }, el("div", {}, el("h1", { id: "edit-heading" }, editing ? ["Edit ", el("bdi", {}, displayText(record.name))] : heading), editing ? el("p", { class: "subtitle", id: "edit-context" }) : null)),
    form,
  );
  controller = schemaForm(fieldsBox, specs, record || {});
  pristine = snapshot();
  describe();
  // Ready to type: the first field; for a new record whose email is filled in already, the next.
  const controls = [...fieldsBox.querySelectorAll("input:not([type=checkbox]), textarea, select")];
  (editing ? controls[0] : (controls.find((control) => control.value === "") ?? controls[0]))?.focus();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (saving) return;
    const problems = controller.validate();
    if (problems.length) {
      showProblems(problems, summary);
      return;
    }
    controller.clearErrors();
    show(summary);
    saving = true;
    submit.disabled = true;
    submit.textContent = "Saving…";
    form.setAttribute("aria-busy", "true");
    try {
      const values = controller.values();
      const saved = editing ? await replaceRecord(email, id, values, etag) : await createRecord(values, createKey(values));
      const action = editing ? "updated" : "created";
      location.assign(
        recordHref("success.html", saved.record.email, saved.record.id, { action, name: saved.record.name, version: saved.record.version }),
      );
    } catch (error) {
      saving = false;
      submit.disabled = false;
      submit.textContent = editing ? "Save changes" : "Create record";
      form.removeAttribute("aria-busy");
      handleError(error, summary, form);
    }
  });
}

async function main() {
  show(container, el("h1", {}, editing ? "Edit record" : "New record"), loading("Loading the form…"));
  try {
    if (editing) {
      const [schema, current] = await Promise.all([componentSchema("RecordFields"), getRecord(email, id)]);
      loaded = current.record;
      etag = current.etag;
      build(fieldSpecs(schema), loaded);
    } else {
      const [schema, fields] = await Promise.all([componentSchema("RecordCreate"), componentSchema("RecordFields")]);
      // The key (the fields a create has and an edit has not) comes first.
      const key = Object.keys(schema.properties).filter((name) => !(name in fields.properties));
      // edit.html?email=… (from a filtered list) starts a record for that address; a signed-in user
      // who is not an admin creates under their own.
      const user = await session().catch(() => null);
      const start = email || (user && !user.admin ? user.email : null);
      build(fieldSpecs(schema, { first: key }), start ? { email: start } : null);
    }
  } catch (error) {
    const title = error.status === 404 ? "This record does not exist" : "Could not load the form";
    const actions = [el("a", { class: "btn", href: "./" }, "Back to the records")];
    if (error.status !== 404) actions.unshift(el("button", { type: "button", class: "btn", onclick: main }, "Try again"));
    show(container, el("h1", {}, editing ? "Edit record" : "New record"), errorBox(error, { title, actions }));
  }
}

main();
