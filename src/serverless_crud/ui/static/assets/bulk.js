// The list page's bulk actions: export the records shown (all, or the filtered email's) and erase
// every record of one email after a confirmation that says how many go. Who may erase what
// (decision 73): in the open mode and for an admin, the filtered email's records; a signed-in user
// who is not an admin, their own records only ("Erase all my records"), whatever the address says.
import { followJob, listRecords, startJob } from "./api.js";
import { session } from "./auth.js";
import { announce, confirmDialog, el, query } from "./ui.js";

const exportButton = document.getElementById("export-csv");
const eraseButton = document.getElementById("erase");
const email = query.get("email") || "";
let erasing = ""; // the partition the erase button erases ("" while it is hidden)

eraseButton.hidden = true;
session().then((user) => {
  erasing = user && !user.admin ? user.email : email;
  eraseButton.hidden = !erasing;
  // A long address ends in an ellipsis on the button; the dialog names it whole.
  eraseButton.replaceChildren(
    ...(user && !user.admin
      ? ["Erase all my records"]
      : ["Erase all records of ", el("span", { class: "button-email" }, erasing)]),
  );
}, () => {}); // no session: the list says why

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
  const partition = erasing;
  const count = await countOf(partition);
  const confirmed = await confirmDialog({
    title: "Erase these records?",
    message: `This erases all ${count} records of ${partition}. It cannot be undone.`,
    confirm: `Erase ${count} records`,
    danger: true,
  });
  if (!confirmed) return;
  eraseButton.disabled = true;
  try {
    const { location } = await startJob("erasures", { email: partition });
    const job = await followJob(location);
    if (job.status !== "succeeded") throw new Error(job.failure || "the erasure failed");
    announce(`${job.counts.erased} records of ${partition} erased.`);
    window.location.reload();
  } catch (error) {
    announce(`The erasure failed: ${error.message}`, { kind: "error" });
    eraseButton.disabled = false;
  }
});
