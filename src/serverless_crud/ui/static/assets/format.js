// Showing values: exact numbers, readable dates with the exact value at hand, empty values.
import { ExactNumber, stringifyJson } from "./api.js";

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
// The exact moment, for a tooltip: the reader's calendar, seconds and their time zone.
const EXACT = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** The text of any API value: numbers exactly as the API sent them, "—" for nothing. */
export function displayText(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (value instanceof ExactNumber) return value.text;
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.length ? value.map(displayText).join(", ") : "—";
  if (typeof value === "object") return stringifyJson(value);
  return String(value);
}

/** "3 minutes ago" for an RFC 3339 timestamp (empty when it is not one). */
export function relativeTime(rfc3339, now = Date.now()) {
  const then = Date.parse(rfc3339);
  if (Number.isNaN(then)) return "";
  const seconds = (then - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return RELATIVE.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

/** The exact moment in the reader's locale and time zone ("Saturday, 6 December 2025 at 20:03:15 GMT"). */
export function exactTime(rfc3339) {
  const parsed = Date.parse(rfc3339);
  return Number.isNaN(parsed) ? String(rfc3339) : EXACT.format(parsed);
}

/** A <time> element: the date and time in the reader's locale (or "3 minutes ago"), the exact
 * moment in its tooltip, the RFC 3339 value in its datetime. */
export function timeElement(rfc3339, { relative = false } = {}) {
  const element = document.createElement("time");
  const parsed = Date.parse(rfc3339);
  element.dateTime = rfc3339;
  element.title = exactTime(rfc3339);
  element.textContent = Number.isNaN(parsed)
    ? String(rfc3339)
    : relative
      ? relativeTime(rfc3339)
      : DATE_TIME.format(parsed);
  return element;
}

/** Whether a schema property holds a timestamp (format date-time, or a *_at name). */
export function isTimestamp(name, schema = {}) {
  return schema.format === "date-time" || /_at$/.test(name);
}
