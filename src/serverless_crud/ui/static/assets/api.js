// The records API over fetch, keeping numbers exact.
//
// JSON.parse turns 12345678901234567890.123456789 into a double and loses digits. Responses are
// parsed keeping each number's text where a double would change it (ExactNumber), and request
// bodies are written by our own serialiser, which puts that text back unquoted.
import { authConfig, idToken, refresh, session, sessionEnded } from "./auth.js";
import { API_BASE } from "./config.js";

/** A JSON number kept as its text, because a JavaScript number would not hold it exactly. */
export class ExactNumber {
  constructor(text) {
    this.text = text;
    Object.freeze(this);
  }

  toString() {
    return this.text;
  }

  /** The number a user typed, as JSON number text; null when it is not a number. */
  static fromInput(raw) {
    const match = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(raw);
    if (!match || (match[2] === "" && !match[3])) return null;
    const [, sign, whole, fraction = "", exponent] = match;
    const digits = whole.replace(/^0+(?=\d)/, "") || "0";
    const text = `${sign === "-" ? "-" : ""}${digits}${fraction ? `.${fraction}` : ""}${exponent ? `e${exponent}` : ""}`;
    return exact(Number(text), text);
  }
}

/** The value to keep for a number read as `text`: a plain number when it prints back the same. */
function exact(value, text) {
  return String(value) === text ? value : new ExactNumber(text);
}

/** Whether this browser passes the source text to JSON.parse's reviver (Chromium does). */
export const PARSE_WITH_SOURCE = (() => {
  let source;
  try {
    JSON.parse("1.0", (key, value, context) => {
      source = context?.source;
      return value;
    });
  } catch {
    return false;
  }
  return source === "1.0";
})();

const MARK = "\u0000#";

/** Quote every number token outside strings as MARK + its text (the fallback's first step). */
function markNumbers(text) {
  return text.replace(/"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*/g, (token) =>
    token.startsWith('"') ? token : `"\\u0000#${token}"`,
  );
}

/** Parse JSON keeping every number exact (see ExactNumber). */
export function parseJson(text, { withSource = PARSE_WITH_SOURCE } = {}) {
  if (withSource) {
    return JSON.parse(text, (key, value, context) =>
      typeof value === "number" ? exact(value, context.source) : value,
    );
  }
  return JSON.parse(markNumbers(text), (key, value) =>
    typeof value === "string" && value.startsWith(MARK)
      ? exact(Number(value.slice(MARK.length)), value.slice(MARK.length))
      : value,
  );
}

/** Serialise to JSON; ExactNumber values are written as their number text. */
export function stringifyJson(value) {
  if (value === null) return "null";
  if (value instanceof ExactNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringifyJson).join(",")}]`;
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
      return String(value);
    case "object":
      return `{${Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => `${JSON.stringify(key)}:${stringifyJson(item)}`)
        .join(",")}}`;
    default:
      throw new TypeError(`cannot serialise ${typeof value} to JSON`);
  }
}

/** The API's base URL (always ending in "/"): config.js, or the pages' own base. */
export const apiBase = new URL(API_BASE ? API_BASE.replace(/\/?$/, "/") : ".", document.baseURI);

/** The URL of an API path (relative, so that a stage prefix such as /dev/ is kept). */
export function apiUrl(path, query = {}) {
  const url = new URL(path, apiBase);
  for (const [name, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(name, item);
    }
  }
  // A space as %20, not "+": API Gateway passes "+" on as it is (a literal "+" is %2B either way).
  url.search = url.search.replace(/\+/g, "%20");
  return url;
}

/** An API call that did not succeed: HTTP status (0 when the server was not reached) and problem. */
export class ApiError extends Error {
  constructor({ status, title, detail, errors = [], etag = null, retryAfter = null }) {
    super(detail || title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
    this.etag = etag;
    this.retryAfter = retryAfter;
  }

  get network() {
    return this.status === 0;
  }
}

const TIMEOUT_MS = 35_000;

async function request(method, path, options = {}, retried = false) {
  const { query, body, file, headers = {}, signal } = options;
  await session(); // signed in first (the sign-in page otherwise), unless the API is open
  const token = idToken();
  const init = { method, headers: { Accept: "application/json", ...headers }, mode: "cors" };
  if (token) init.headers.Authorization = token;
  if (file !== undefined) {
    init.body = file.data;
    init.headers["Content-Type"] = file.type;
  } else if (body !== undefined) {
    init.body = stringifyJson(body);
    init.headers["Content-Type"] = "application/json";
  }
  init.signal = signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS);
  let response;
  try {
    response = await fetch(apiUrl(path, query), init);
  } catch (error) {
    if (signal?.aborted) throw error; // the caller gave up on this request (a newer one replaced it)
    const timedOut = error?.name === "TimeoutError";
    throw new ApiError({
      status: 0,
      title: timedOut ? "The server took too long" : "Could not reach the server",
      detail: timedOut
        ? "The server did not answer in time. Nothing you typed was lost; try again."
        : "Check your connection and try again. Nothing you typed was lost.",
    });
  }
  if (response.status === 401 && token && !retried) {
    // The ID token expired or was revoked since the page got it: a fresh one, else the session ended.
    try {
      await refresh();
    } catch {
      return sessionEnded();
    }
    return request(method, path, options, true);
  }
  const text = response.status === 204 || response.status === 304 ? "" : await response.text();
  let data = null;
  if (text) {
    try {
      data = parseJson(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok && response.status !== 304) {
    throw new ApiError({
      status: response.status,
      title: data?.title || response.statusText || `HTTP ${response.status}`,
      detail: data?.detail || data?.message || `The server answered ${response.status}.`,
      errors: Array.isArray(data?.errors) ? data.errors : [],
      etag: response.headers.get("ETag"),
      retryAfter: response.headers.get("Retry-After"),
    });
  }
  return {
    status: response.status,
    data,
    etag: response.headers.get("ETag"),
    location: response.headers.get("Location"),
  };
}

/** The path of one record (the email percent-encoded, as the API expects). */
export function recordPath(email, id) {
  return `records/${encodeURIComponent(email)}/${encodeURIComponent(String(id))}`;
}

/** One page of a listing or search: {items, next_cursor, stopped_early}; `signal` aborts it. */
export async function listRecords({ email, q, tag, active, sort, limit, cursor } = {}, { signal } = {}) {
  return (await request("GET", "records", { query: { email, q, tag, active, sort, limit, cursor }, signal })).data;
}

/** One record and its ETag: {record, etag}. */
export async function getRecord(email, id) {
  const { data, etag } = await request("GET", recordPath(email, id));
  return { record: data, etag };
}

/** POST a new record. `idempotencyKey`: the same key for a retry of the same create, so that a
 * double click or a retry after a network error creates one record (the server replays the first). */
export async function createRecord(fields, idempotencyKey) {
  const headers = idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {};
  const { data, etag } = await request("POST", "records", { body: fields, headers });
  return { record: data, etag };
}

/** PUT the mutable fields; with `etag`, only if the record is still at that version (else 412). */
export async function replaceRecord(email, id, fields, etag) {
  const headers = etag ? { "If-Match": etag } : {};
  const response = await request("PUT", recordPath(email, id), { body: fields, headers });
  return { record: response.data, etag: response.etag };
}

export async function deleteRecord(email, id, etag) {
  await request("DELETE", recordPath(email, id), { headers: etag ? { "If-Match": etag } : {} });
}

let openApiPromise = null;

/** The API's OpenAPI document (fetched once per page). */
export function openApiDocument() {
  openApiPromise ??= request("GET", "openapi.json").then((response) => response.data);
  openApiPromise.catch(() => {
    openApiPromise = null;
  });
  return openApiPromise;
}

/** A component schema of the OpenAPI document, with local $refs resolved. */
export async function componentSchema(name) {
  const document = await openApiDocument();
  const resolve = (node) => {
    if (Array.isArray(node)) return node.map(resolve);
    if (!node || typeof node !== "object" || node instanceof ExactNumber) return node;
    if (typeof node.$ref === "string" && node.$ref.startsWith("#/components/schemas/")) {
      return resolve(document.components.schemas[node.$ref.split("/").pop()]);
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolve(value)]));
  };
  const schema = document?.components?.schemas?.[name];
  if (!schema) throw new ApiError({ status: 0, title: "Unknown schema", detail: `${name} is not in the API document` });
  return resolve(schema);
}

/** The media type the jobs API takes for a file of records, from its name (null: not one). */
export function recordFileType(name) {
  const extension = name.toLowerCase().split(".").pop();
  return { csv: "text/csv", jsonl: "application/x-ndjson", ndjson: "application/x-ndjson" }[extension] || null;
}

/** Start an import of a File (mode "create" or "upsert"); the job and its URL. `onUpload(loaded, total)`
 * follows a file uploaded to the bucket (one over the API's body limit). */
export async function startImport(file, mode, onUpload = () => {}) {
  const type = recordFileType(file.name);
  const { max_body_bytes: limit, max_import_bytes: largest } = await authConfig();
  if (largest && file.size > largest) {
    throw new ApiError({
      status: 413,
      title: "The file is too large",
      detail: `The file is ${file.size.toLocaleString()} bytes; an import takes at most ${largest.toLocaleString()}.`,
    });
  }
  if (!limit || file.size <= limit) {
    try {
      const { data, location } = await request("POST", "imports", { query: { mode }, file: { data: file, type } });
      return { job: data, location };
    } catch (error) {
      if (error.status !== 413) throw error; // a limit lower than the page knew: the upload below
    }
  }
  // Over the body limit, as the CLI does: a presigned form POST to the bucket, then the import names it.
  const format = type === "text/csv" ? "csv" : "jsonl";
  const upload = (await request("POST", "imports/uploads", { body: { format, size: file.size } })).data;
  await postFile(upload.upload_url, upload.upload_fields, file, onUpload);
  const { data, location } = await request("POST", "imports", { query: { mode }, body: { upload: upload.upload, format } });
  return { job: data, location };
}

/** POST the file to a presigned form upload (its fields first, the file last), reporting (loaded,
 * total) bytes: fetch cannot report an upload's progress. */
function postFile(url, fields, file, onProgress) {
  const failed = (detail) => new ApiError({ status: 0, title: "The upload failed", detail });
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", file);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(Math.min(event.loaded, file.size), file.size);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve();
      } else if (/EntityTooLarge/.test(xhr.responseText)) {
        reject(failed("The file is over the import size limit."));
      } else {
        reject(failed(`The file store answered ${xhr.status}; try again.`));
      }
    });
    xhr.addEventListener("error", () => reject(failed("Could not reach the file store. Check your connection and try again.")));
    xhr.send(form);
  });
}

/** Start an export ({format, email?}) or an erasure ({email}); the job and its URL. */
export async function startJob(kind, body) {
  const { data, location } = await request("POST", kind, { body });
  return { job: data, location };
}

/** A job by its URL (the Location a start answered). */
export async function getJob(location) {
  return (await request("GET", location)).data;
}

/** Poll a job until it succeeds or fails, calling `onUpdate` with each reading. */
export async function followJob(location, onUpdate = () => {}, intervalMs = 400) {
  for (;;) {
    const job = await getJob(location);
    onUpdate(job);
    if (job.status === "succeeded" || job.status === "failed") return job;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A record's history, newest first: {items, next_cursor} (each item: version, at, by, by_email, how, changes). */
export async function getHistory(email, id, cursor) {
  return (await request("GET", `${recordPath(email, id)}/history`, { query: { cursor } })).data;
}

/** Write version `version`'s values as the record's next version; with `etag`, only if the record is
 * still at that version (else 412). A deleted record is created again. */
export async function restoreVersion(email, id, version, etag) {
  const headers = etag ? { "If-Match": etag } : {};
  const response = await request("POST", `${recordPath(email, id)}/history/${encodeURIComponent(String(version))}/restore`, { headers });
  return { record: response.data, etag: response.etag };
}

/** Records deleted within the history's retention, newest first: {items, next_cursor}. */
export async function listDeleted(email, cursor) {
  return (await request("GET", "deleted", { query: { email, cursor } })).data;
}

/** Create a deleted record again with its last values (409 when its key is in use again). */
export async function restoreDeleted(email, id) {
  const response = await request("POST", `deleted/${encodeURIComponent(email)}/${encodeURIComponent(String(id))}/restore`);
  return { record: response.data, etag: response.etag };
}
