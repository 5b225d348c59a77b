// The list page's bulk actions: export the records shown (all, or the filtered email's) and, with
// an email filter, erase every record of that email after a confirmation that says how many go.
import { followJob, listRecords, startJob } from "./api.js";
import { announce, confirmDialog, query } from "./ui.js";

const exportButton = document.getElementById("export-csv");
const eraseButton = document.getElementById("erase");
const email = query.get("email") || "";

eraseButton.hidden = !email;
if (email) eraseButton.textContent = `Erase all records of ${email}`;

async function countOf(partition) {
  let count = 0;
  let cursor;
  do {
    const page = await listRecords({ email: partition, limit: 100, cursor });
    count += page.items.length;
    cursor = page.next_cursor || undefined;
  } while (cursor);
  return count;
}

exportButton.addEventListener("click", async () => {
  exportButton.disabled = true;
  announce("Preparing the export…");
  try {
    const { location } = await startJob("exports", { format: "csv", ...(email ? { email } : {}) });
    const job = await followJob(location);
    if (job.status !== "succeeded") throw new Error(job.failure || "the export failed");
    announce(`Export ready: ${job.counts.records} records.`);
    window.location.assign(job.download_url);
  } catch (error) {
    announce(`The export failed: ${error.message}`, { kind: "error" });
  } finally {
    exportButton.disabled = false;
  }
});

eraseButton.addEventListener("click", async () => {
  const count = await countOf(email);
  const confirmed = await confirmDialog({
    title: "Erase these records?",
    message: `This erases all ${count} records of ${email}. It cannot be undone.`,
    confirm: `Erase ${count} records`,
    danger: true,
  });
  if (!confirmed) return;
  eraseButton.disabled = true;
  try {
    const { location } = await startJob("erasures", { email });
    const job = await followJob(location);
    if (job.status !== "succeeded") throw new Error(job.failure || "the erasure failed");
    announce(`${job.counts.erased} records of ${email} erased.`);
    window.location.reload();
  } catch (error) {
    announce(`The erasure failed: ${error.message}`, { kind: "error" });
    eraseButton.disabled = false;
  }
});
