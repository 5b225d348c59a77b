// The import page: a file chosen or dropped, the job followed with a progress bar, then its report.
import { followJob, recordFileType, startImport } from "./api.js";
import { recordFields } from "./fields.js";
import { announce, el, errorBox, setTitle, show } from "./ui.js";

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
    progressText.textContent = `${done} of ${counts.rows} rows`;
  } else {
    bar.removeAttribute("value");
    progressText.textContent = job.status === "queued" ? "Waiting to start…" : "Reading the file…";
  }
}

function showUpload(loaded, total) {
  progress.hidden = false;
  bar.max = total;
  bar.value = loaded;
  progressText.textContent = `Uploading: ${Math.floor((100 * loaded) / total)}% of ${total} bytes`;
}

function showReport(job) {
  const counts = job.counts || {};
  report.hidden = false;
  document.getElementById("report-summary").textContent =
    job.status === "succeeded"
      ? `${counts.rows} rows: ${counts.written} stored, ${counts.unchanged ? `${counts.unchanged} already imported, ` : ""}${counts.rejected} rejected.`
      : `The import failed: ${job.failure || "no reason was given"}.`;
  const rows = (job.rejected || []).flatMap((row) =>
    row.errors.map((error) => el("tr", {}, el("td", {}, String(row.line)), el("td", {}, error.field), el("td", {}, error.message))),
  );
  const container = document.getElementById("rejected");
  if (rows.length === 0) {
    show(container);
    return;
  }
  // The job shows the first 1,000 rejected rows; the report file has every one.
  const download = job.report_url ? el("p", {}, el("a", { href: job.report_url }, "Download every rejected row (CSV)")) : null;
  show(
    container,
    download,
    el(
      "table",
      { class: "table" },
      el("caption", {}, "Rejected rows"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Line"), el("th", { scope: "col" }, "Field"), el("th", { scope: "col" }, "Problem"))),
      el("tbody", {}, ...rows),
    ),
  );
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
    showProgress(job);
    const finished = await followJob(location, showProgress);
    showProgress(finished);
    showReport(finished);
    announce(finished.status === "succeeded" ? "The import is done." : "The import failed.", {
      kind: finished.status === "succeeded" ? "info" : "error",
    });
  } catch (error) {
    progress.hidden = true;
    report.hidden = false;
    show(document.getElementById("rejected"), errorBox(error, { title: "The file was not imported" }));
    document.getElementById("report-summary").textContent = "";
  } finally {
    button.disabled = false;
  }
});
