// A form generated from a JSON Schema (as the API publishes it in /openapi.json): inputs of the
// right type, required markers, checks that mirror the schema, and per-field error messages.
// A field added to the record model appears here with no change to the UI.
import { ExactNumber, parseJson, stringifyJson } from "./api.js";
import { el } from "./ui.js";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Strings longer than this get a multi-line text area. */
const TEXTAREA_FROM = 255;

/** The non-null branch of `anyOf: [X, {type: null}]`, and whether null is allowed. */
function unwrapNullable(schema) {
  const branches = schema.anyOf || schema.oneOf;
  if (Array.isArray(branches)) {
    const others = branches.filter((branch) => branch.type !== "null");
    if (others.length === 1) {
      const { anyOf, oneOf, ...rest } = schema;
      return { schema: { ...rest, ...others[0], description: schema.description ?? others[0].description }, nullable: true };
    }
  }
  if (Array.isArray(schema.type) && schema.type.includes("null")) {
    return { schema: { ...schema, type: schema.type.find((type) => type !== "null") }, nullable: true };
  }
  return { schema, nullable: false };
}

function kindOf(name, schema) {
  switch (schema.type) {
    case "boolean":
      return "boolean";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "array":
      return schema.items?.type === "string" ? "list" : "json";
    case "string":
      if (Array.isArray(schema.enum)) return "select";
      if (schema.format === "email") return "email";
      if (schema.format === "uri") return "url";
      if (/phone|tel/i.test(name)) return "tel";
      return (schema.maxLength ?? Infinity) > TEXTAREA_FROM ? "textarea" : "text";
    default:
      return "json";
  }
}

/** The fields of an object schema, `first` names first, then in the schema's order. */
export function fieldSpecs(objectSchema, { first = [] } = {}) {
  const required = new Set(objectSchema.required || []);
  const names = Object.keys(objectSchema.properties || {});
  const ordered = [...first.filter((name) => names.includes(name)), ...names.filter((name) => !first.includes(name))];
  return ordered.map((name) => {
    const property = objectSchema.properties[name];
    const { schema, nullable } = unwrapNullable(property);
    return {
      name,
      title: property.title || name,
      description: property.description || schema.description || "",
      help: property["x-help"] || "",
      required: required.has(name),
      nullable,
      kind: kindOf(name, schema),
      schema,
      default: property.default,
    };
  });
}

const length = (text) => [...text].length;

const count = new Intl.NumberFormat();

/** The help text under a label: the field's description in plain words, then its limit said once
 * (a text area's counter says it instead), then "Optional." for a field that may stay empty. */
function hintFor(spec) {
  const { schema, kind } = spec;
  const parts = [];
  // The help written for people (the field's declaration), else what the API says of it.
  const text = spec.help || spec.description;
  if (text) parts.push(text.replace(/\.?$/, "."));
  if (kind === "list") {
    parts.push("Press Enter or type a comma after each one.");
    const each = schema.items?.maxLength;
    if (schema.maxItems !== undefined && each !== undefined) parts.push(`Up to ${schema.maxItems}, of ${each} characters each.`);
    else if (schema.maxItems !== undefined) parts.push(`Up to ${schema.maxItems}.`);
  } else if (schema.maxLength !== undefined && kind !== "email" && kind !== "textarea") {
    parts.push(`Up to ${count.format(schema.maxLength)} characters.`);
  }
  // A range worth saying (not merely "any whole number a browser can hold").
  if (kind === "integer" && schema.minimum !== undefined && schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) {
    parts.push(`A whole number from ${count.format(schema.minimum)} to ${count.format(schema.maximum)}.`);
  }
  if (!spec.required && kind !== "boolean" && kind !== "list") parts.push("Optional.");
  return parts.join(" ");
}

/** Check one string against the schema's string keywords. */
function checkString(text, schema, label) {
  if (schema.minLength !== undefined && length(text) < schema.minLength) {
    return `${label} must have at least ${schema.minLength} character${schema.minLength === 1 ? "" : "s"}.`;
  }
  if (schema.maxLength !== undefined && length(text) > schema.maxLength) {
    return `${label} must have at most ${schema.maxLength} characters (it has ${length(text)}).`;
  }
  if (schema.format === "email" && !EMAIL.test(text)) return `${label} must be an email address, like name@example.com.`;
  return null;
}

function compare(a, b) {
  // Whole numbers compare exactly as BigInt; others as doubles (enough for a bound check).
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
  return Math.sign(Number(a) - Number(b));
}

function checkNumber(text, schema, label, integer) {
  const value = ExactNumber.fromInput(text);
  if (value === null || (integer && !/^\s*[+-]?\d+\s*$/.test(text))) {
    return integer ? `${label} must be a whole number.` : `${label} must be a number, like 12.50.`;
  }
  const number = String(value);
  if (schema.minimum !== undefined && compare(number, String(schema.minimum)) < 0) {
    return `${label} must be at least ${schema.minimum}.`;
  }
  if (schema.maximum !== undefined && compare(number, String(schema.maximum)) > 0) {
    return `${label} must be at most ${schema.maximum}.`;
  }
  return null;
}

/** The items of typed or pasted text: comma-separated, trimmed, empty ones dropped. */
const listItems = (text) => text.split(",").map((item) => item.trim()).filter(Boolean);

/** A list-of-strings editor: removable chips and an input that adds one on Enter or comma. */
function listInput(spec, id, describedBy) {
  const items = [];
  const chips = el("ul", { class: "chips", "aria-label": `Selected ${spec.title.toLowerCase()}` });
  const input = el("input", { id, type: "text", name: spec.name, dir: "auto", autocomplete: "off", "aria-describedby": describedBy });
  const render = () => {
    chips.replaceChildren(
      ...items.map((item, index) =>
        el(
          "li",
          { class: "chip" },
          el("span", { class: "chip-text", dir: "auto" }, item),
          el(
            "button",
            {
              type: "button",
              "aria-label": `Remove ${item}`,
              onclick: () => {
                items.splice(index, 1);
                render();
                input.focus();
              },
            },
            el("span", { "aria-hidden": "true" }, "×"),
          ),
        ),
      ),
    );
    chips.hidden = items.length === 0;
  };
  const commit = () => {
    items.push(...listItems(input.value));
    input.value = "";
    render();
  };
  // Pasted (or dropped) text with commas, "alpha, beta", becomes one item per part at once.
  input.addEventListener("input", () => {
    if (input.value.includes(",")) commit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === ",") {
      event.preventDefault();
      commit();
    } else if (event.key === "Backspace" && input.value === "" && items.length) {
      items.pop();
      render();
    }
  });
  render();
  return {
    element: el("div", { class: "list-input" }, chips, input),
    focus: () => input.focus(),
    get: () => [...items, ...listItems(input.value)],
    set: (values) => {
      items.splice(0, items.length, ...(values || []).map(String));
      input.value = "";
      render();
    },
    control: input,
  };
}

function scalarInput(spec, id, describedBy) {
  const { kind, schema } = spec;
  let control;
  if (kind === "textarea") {
    control = el("textarea", { id, name: spec.name, rows: 4, dir: "auto" });
  } else if (kind === "boolean") {
    control = el("input", { id, name: spec.name, type: "checkbox" });
  } else if (kind === "select") {
    control = el(
      "select",
      { id, name: spec.name },
      spec.nullable || !spec.required ? el("option", { value: "" }, "—") : null,
      schema.enum.map((option) => el("option", { value: String(option) }, String(option))),
    );
  } else {
    const types = { email: "email", tel: "tel", url: "url" };
    const modes = { integer: "numeric", number: "decimal" };
    control = el("input", {
      id,
      name: spec.name,
      type: types[kind] || "text",
      dir: kind === "text" ? "auto" : null,
      inputmode: modes[kind],
      autocomplete: "off",
      spellcheck: kind === "text" || kind === "textarea" ? null : "false",
    });
  }
  control.setAttribute("aria-describedby", describedBy);
  if (spec.required) control.setAttribute("aria-required", "true");
  const isCheckbox = kind === "boolean";
  return {
    element: control,
    control,
    focus: () => control.focus(),
    get: () => (isCheckbox ? control.checked : control.value),
    set: (value) => {
      if (isCheckbox) control.checked = Boolean(value);
      else control.value = value === null || value === undefined ? "" : kind === "json" ? stringifyJson(value) : String(value);
    },
  };
}

/**
 * Build the inputs of `specs` into `container`; returns the form's controller:
 * values(), setValues(record), validate() → [{field, message}], showErrors(errors) → the errors
 * that belong to no field, clearErrors(), focus(field).
 */
export function schemaForm(container, specs, initial = {}) {
  const fields = new Map();
  for (const spec of specs) {
    const id = `f-${spec.name}`;
    const hintId = `${id}-hint`;
    const errorId = `${id}-error`;
    const input = spec.kind === "list" ? listInput(spec, id, `${hintId} ${errorId}`) : scalarInput(spec, id, `${hintId} ${errorId}`);
    const label = el(
      "label",
      { for: id },
      spec.title,
      spec.required ? el("span", { class: "required", title: "required" }, " *", el("span", { class: "visually-hidden" }, " (required)")) : null,
    );
    const hint = el("p", { class: "hint", id: hintId }, hintFor(spec));
    const error = el("p", { class: "field-error", id: errorId, hidden: true });
    const counter =
      spec.kind === "textarea" && spec.schema.maxLength !== undefined
        ? el("p", { class: "counter", id: `${id}-counter` })
        : null;
    if (counter) {
      input.control.setAttribute("aria-describedby", `${hintId} ${counter.id} ${errorId}`);
      const update = () => {
        counter.textContent = `${count.format(length(input.control.value))} of ${count.format(spec.schema.maxLength)} characters`;
      };
      input.control.addEventListener("input", update);
      input.updateCounter = update;
    }
    const wrapper =
      spec.kind === "boolean"
        ? el("div", { class: "field field-checkbox", "data-field": spec.name }, input.element, label, hint, error)
        : el("div", { class: "field", "data-field": spec.name }, label, hint, input.element, counter, error);
    fields.set(spec.name, { spec, input, error, wrapper });
    container.append(wrapper);
  }

  const controller = {
    setValues(record) {
      for (const { spec, input } of fields.values()) {
        input.set(record[spec.name] !== undefined ? record[spec.name] : (spec.default ?? (spec.kind === "list" ? [] : null)));
        input.updateCounter?.();
      }
    },

    values() {
      const result = {};
      for (const { spec, input } of fields.values()) {
        const raw = input.get();
        if (spec.kind === "boolean" || spec.kind === "list") {
          result[spec.name] = raw;
        } else if (typeof raw === "string" && raw.trim() === "") {
          result[spec.name] = spec.nullable || !spec.required ? null : "";
        } else if (spec.kind === "integer" || spec.kind === "number") {
          result[spec.name] = ExactNumber.fromInput(raw);
        } else if (spec.kind === "json") {
          result[spec.name] = parseJson(raw);
        } else {
          result[spec.name] = raw.trim();
        }
      }
      return result;
    },

    validate() {
      const problems = [];
      for (const { spec, input } of fields.values()) {
        const raw = input.get();
        const label = spec.title;
        let message = null;
        if (spec.kind === "list") {
          if (spec.schema.maxItems !== undefined && raw.length > spec.schema.maxItems) {
            message = `${label}: at most ${spec.schema.maxItems} (there are ${raw.length}).`;
          } else {
            const bad = raw.find((item) => checkString(item, spec.schema.items, "x"));
            if (bad !== undefined) message = checkString(bad, spec.schema.items, `“${bad}”`);
          }
        } else if (spec.kind !== "boolean") {
          const text = String(raw).trim();
          if (text === "") {
            if (spec.required) message = `${label} is required.`;
          } else if (spec.kind === "integer" || spec.kind === "number") {
            message = checkNumber(text, spec.schema, label, spec.kind === "integer");
          } else if (spec.kind === "json") {
            try {
              parseJson(text);
            } catch {
              message = `${label} must be JSON.`;
            }
          } else {
            message = checkString(text, spec.schema, label);
          }
        }
        if (message) problems.push({ field: spec.name, message });
      }
      return problems;
    },

    clearErrors() {
      for (const { input, error } of fields.values()) {
        error.hidden = true;
        error.textContent = "";
        input.control.removeAttribute("aria-invalid");
      }
    },

    showErrors(errors) {
      controller.clearErrors();
      const unmatched = [];
      for (const problem of errors) {
        const [name, index] = String(problem.field || "").split(".");
        const field = fields.get(name);
        if (!field) {
          unmatched.push(problem);
          continue;
        }
        let message = String(problem.message || "is invalid");
        if (/^[a-z]/.test(message)) message = `${field.spec.title} ${message}`;
        if (index !== undefined && /^\d+$/.test(index)) message = `${field.spec.title} #${Number(index) + 1}: ${message}`;
        if (!/[.!?]$/.test(message)) message += ".";
        field.error.textContent = field.error.hidden ? message : `${field.error.textContent} ${message}`;
        field.error.hidden = false;
        field.input.control.setAttribute("aria-invalid", "true");
      }
      return unmatched;
    },

    /** Messages shown next to fields, for an error summary: [{field, id, message}]. */
    shownErrors() {
      return [...fields.values()]
        .filter(({ error }) => !error.hidden)
        .map(({ spec, input, error }) => ({ field: spec.name, id: input.control.id, message: error.textContent }));
    },

    focus(name) {
      fields.get(name)?.input.focus();
    },

    has(name) {
      return fields.has(name);
    },
  };
  controller.setValues(initial);
  return controller;
}
