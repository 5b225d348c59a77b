// The record's fields as the model declares them, read from the published Record schema
// (/openapi.json): label and help for people, and how each is used (searched, sortable, listed, a
// filter, the key, the server's). The list, the forms, the view and the import page derive from it,
// so a field added to the model appears everywhere with no change here.
import { componentSchema } from "./api.js";

function fieldOf(name, property) {
  const branches = (property.anyOf || []).filter((branch) => branch.type !== "null");
  const value = branches[0] || property;
  return {
    name,
    label: property.title || name,
    help: property["x-help"] || "",
    kind: value.type || "string",
    format: property.format || value.format || "",
    search: property["x-search"] || null,
    sort: property["x-sort"] || null,
    listed: Boolean(property["x-list"]),
    filter: property["x-filter"] || null,
    key: property["x-key"] || null,
    server: Boolean(property["x-server"]),
    csv: property["x-csv"] !== false,
    // The field holding a person's user id whose email this field keeps (shown instead of the id).
    emailOf: property["x-email-of"] || null,
  };
}

let fieldsPromise = null;

/** Every field: the key, the client's fields, the server's (each group in declaration order). */
export function recordFields() {
  fieldsPromise ??= componentSchema("Record").then((schema) => {
    const all = Object.entries(schema.properties || {}).map(([name, property]) => fieldOf(name, property));
    const keys = all.filter((f) => f.key).sort((a, b) => (a.key === "partition" ? -1 : b.key === "partition" ? 1 : 0));
    return [...keys, ...all.filter((f) => !f.key && !f.server), ...all.filter((f) => f.server)];
  });
  fieldsPromise.catch(() => {
    fieldsPromise = null;
  });
  return fieldsPromise;
}

/** The list's columns: the first listed field that is not the key (it links to the record), then the
 * key, then the other listed fields. */
export function listColumns(fields) {
  const listed = fields.filter((f) => f.listed);
  const title = listed.find((f) => !f.key);
  return title ? [title, ...listed.filter((f) => f !== title)] : listed;
}

/** The sort options: each sortable field ascending, then descending, in words that fit its kind. */
export function sortOptions(fields) {
  const words = (f) =>
    f.format === "date-time"
      ? ["oldest first", "newest first"]
      : f.kind === "number" || f.kind === "integer"
        ? ["low to high", "high to low"]
        : ["A–Z", "Z–A"];
  return fields
    .filter((f) => f.sort)
    .flatMap((f) => {
      const [up, down] = words(f);
      return [
        { value: f.name, label: `${f.label}, ${up}` },
        { value: `-${f.name}`, label: `${f.label}, ${down}` },
      ];
    });
}

/** The search box's hint: the labels of the searched fields. */
export function searchPlaceholder(fields) {
  const labels = fields.filter((f) => f.search).map((f) => f.label);
  return labels.length ? `${labels.join(", ")}…` : "";
}
