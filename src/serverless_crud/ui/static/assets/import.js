// The import page: a file chosen or dropped, the job followed with a progress bar, then its report.
import { followJob, recordFileType, startImport } from "./api.js";
import { recordFields } from "./fields.js";
import { announce, el, errorBox, query, setTitle, show } from "./ui.js";

const form = document.getElementById("import-form");
const input = document.getElementById("file");
const drop = document.getElementById("drop");
const progress = document.getElementById("progress");
const bar = document.getElementById("bar");
const progressText = document.getElementById("progress-text");
const report = document.getElementById("report");

setTitle("Import records");

// The columns a file may have: the record's fields (their declarations), a list's items separated by |.
recordFields().then(
  (fields) => {
    const names = fields.filter((f) => f.csv && !f.server);
    const parts = names.flatMap((f, index) => [
      index ? ", " : " (",
      el("code", {}, f.name),
      f.kind === "array" ? [" separated by ", el("code", {}, "|")] : [],
    ]);
    document.getElementById("csv-fields").replaceChildren(...parts.flat(), ")");
  },
  () => {},
);

drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("dragging");
});
drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("dragging");
  if (event.dataTransfer?.files?.length) input.files = event.dataTransfer.files;
});

function showProgress(job) {
  const counts = job.counts || {};
  const done = (counts.written || 0) + (counts.unchanged || 0) + (counts.rejected || 0);
  progress.hidden = false;
  if (counts.rows) {
    bar.max = counts.rows;
    bar.value = done;
    progressText.textContent = `${count.format(done)} of ${count.format(counts.rows)} rows`;
  } else {
    bar.removeAttribute("value");
    progressText.textContent = job.status === "queued" ? "Waiting to start…" : "Reading the file…";
  }
}

const UNITS = ["byte", "kilobyte", "megabyte", "gigabyte"];

/** A file size in words the reader's locale uses ("4.2 MB"). */
function size(bytes) {
  const power = Math.min(UNITS.length - 1, Math.max(0, Math.floor(Math.log10(Math.max(bytes, 1)) / 3)));
  const unit = UNITS[power];
  return new Intl.NumberFormat(undefined, { style: "unit", unit, unitDisplay: power ? "short" : "long", maximumFractionDigits: 1 }).format(bytes / 1000 ** power);
}

function showUpload(loaded, total) {
  progress.hidden = false;
  bar.max = total;
  bar.value = loaded;
  progressText.textContent = `Uploading: ${Math.floor((100 * loaded) / total)}% of ${size(total)}`;
}

const count = new Intl.NumberFormat();

/** One CSV cell: quoted when needed; a text a spreadsheet would run as a formula (=, +, -, @, tab,
 * carriage return first) starts with an apostrophe, so it is shown as text (OWASP's advice). */
function csvCell(value) {
  let text = String(value ?? "");
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rejected rows as a CSV file (line, field, message: the columns of the server's report), for a link to download. */
function rejectedCsv(rows) {
  const lines = [["line", "field", "message"], ...rows.map((row) => [row.line, row.field, row.message])];
  return new Blob([`${lines.map((line) => line.map(csvCell).join(",")).join("\r\n")}\r\n`], { type: "text/csv" });
}

let downloadUrl = null;

function showReport(job) {
  const counts = job.counts || {};
  report.hidden = false;
  document.getElementById("report-summary").textContent =
    job.status === "succeeded"
      ? `${count.format(counts.rows)} rows: ${count.format(counts.written)} stored, ${counts.unchanged ? `${count.format(counts.unchanged)} already imported, ` : ""}${count.format(counts.rejected)} rejected.`
      : `The import failed: ${job.failure || "no reason was given"}.`;
  const rows = (job.rejected || []).flatMap((row) => row.errors.map((error) => ({ line: row.line, field: error.field, message: error.message })));
  const container = document.getElementById("rejected");
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = null;
  if (rows.length === 0) {
    show(container);
    return;
  }
  // The job lists the first 1,000 rejected rows; its report (report_url, made by the server, cells
  // safe for spreadsheets) has every one. Without it, the listed rows are the file.
  downloadUrl = job.report_url ? null : URL.createObjectURL(rejectedCsv(rows));
  const listed = (job.rejected || []).length;
  const partial = counts.rejected > listed ? el("p", { class: "hint" }, `The first ${count.format(listed)} of ${count.format(counts.rejected)} rejected rows are listed${job.report_url ? "; the download has every one" : ""}.`) : null;
  show(
    container,
    el(
      "p",
      { class: "actions" },
      el("a", { class: "btn", href: job.report_url || downloadUrl, download: `rejected-rows-${job.id}.csv` }, "Download rejected rows (CSV)"),
    ),
    partial,
    el(
      "div",
      { class: "data-table-wrap", tabindex: "0", role: "region", "aria-labelledby": "rejected-caption" },
      el(
        "table",
        { class: "data-table" },
        el("caption", { id: "rejected-caption" }, "Rejected rows"),
        el("colgroup", {}, el("col", { class: "col-line" }), el("col", { class: "col-field" }), el("col")),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Line"), el("th", { scope: "col" }, "Field"), el("th", { scope: "col" }, "Problem"))),
        el("tbody", {}, rows.map((row) => el("tr", {}, el("td", {}, String(row.line)), el("td", {}, row.field), el("td", {}, row.message)))),
      ),
    ),
  );
}

/** Follow a job to its end and show its report; a failure to read it is said in the report. */
async function follow(location) {
  try {
    const finished = await followJob(location, showProgress);
    showProgress(finished);
    showReport(finished);
    return finished;
  } catch (error) {
    progress.hidden = true;
    report.hidden = false;
    show(document.getElementById("rejected"), errorBox(error, { title: "Could not read the import's report" }));
    document.getElementById("report-summary").textContent = "";
    return null;
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = input.files?.[0];
  if (!file) return;
  if (!recordFileType(file.name)) {
    announce("Choose a .csv, .jsonl or .ndjson file.", { kind: "error" });
    return;
  }
  report.hidden = true;
  const mode = new FormData(form).get("mode");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const { job, location } = await startImport(file, mode, showUpload);
    // The address names the job: a reload (or a bookmark) shows its progress and report again.
    history.replaceState(null, "", `?${new URLSearchParams({ job: job.id })}`);
    showProgress(job);
    const finished = await follow(location);
    if (finished) {
      announce(finished.status === "succeeded" ? "The import is done." : "The import failed.", {
        kind: finished.status === "succeeded" ? "info" : "error",
      });
    }
  } catch (error) {
    progress.hidden = true;
    report.hidden = false;
    show(document.getElementById("rejected"), errorBox(error, { title: "The file was not imported" }));
    document.getElementById("report-summary").textContent = "";
  } finally {
    button.disabled = false;
  }
});

// import.html?job=… shows that import's progress and report (the page's address after a start).
const jobId = query.get("job");
if (jobId && /^[\w-]+$/.test(jobId)) follow(`jobs/${encodeURIComponent(jobId)}`);
