// Swagger UI for the API's OpenAPI document, with the API's own base URL as its server (so that
// "Try it out" keeps the stage prefix, or reaches the API when the pages are hosted elsewhere).
// Signed in, "Try it out" is authorised with the session's ID token (kept fresh as the session
// refreshes it); signed out, the page still shows the document.
import { apiUrl } from "./api.js";
import { idToken, restoreSession } from "./auth.js";
import { errorBox, show } from "./ui.js";

const target = document.getElementById("swagger-ui");

/** Named regions for the parts of Swagger UI outside its own <main> (the operations). */
const REGIONS = { ".information-container": "About this API", ".scheme-container": "Servers" };

/**
 * Swagger UI's markup made accessible, after each of its renders (React leaves alone the
 * attributes it does not set): its title is the page's h1 but its sections start at h3, so every
 * heading below the title is announced one level up; the blocks outside its <main> become named
 * regions, so all content sits in a landmark; the server picker and the request body get names.
 */
function adjustMarkup() {
  for (const heading of target.querySelectorAll("h3, h4, h5, h6")) {
    const level = String(Number(heading.tagName[1]) - 1);
    if (heading.getAttribute("aria-level") !== level) heading.setAttribute("aria-level", level);
  }
  for (const [selector, name] of Object.entries(REGIONS)) {
    const block = target.querySelector(selector);
    if (block && block.getAttribute("role") !== "region") {
      block.setAttribute("role", "region");
      block.setAttribute("aria-label", name);
    }
  }
  const names = { "select#servers": "Server", "textarea.body-param__text": "Request body" };
  for (const [selector, name] of Object.entries(names)) {
    for (const control of target.querySelectorAll(selector)) {
      if (!control.hasAttribute("aria-label")) control.setAttribute("aria-label", name);
    }
  }
}

try {
  const response = await fetch(apiUrl("openapi.json"), { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`The server answered ${response.status}.`);
  const spec = await response.json();
  spec.servers = [{ url: apiUrl("").href.replace(/\/$/, ""), description: "This API" }];
  new MutationObserver(adjustMarkup).observe(target, { childList: true, subtree: true });
  const signedIn = await restoreSession().then((state) => Boolean(state.user), () => false);
  const first = signedIn ? idToken() : null;
  // No deep links: Swagger UI would put each operation's link inside its summary button.
  const ui = window.SwaggerUIBundle({
    spec,
    domNode: target,
    deepLinking: false,
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    // The token Swagger UI was given is the one the session had then: send the current one.
    requestInterceptor: (request) => {
      const current = idToken();
      if (current && (!request.headers.Authorization || request.headers.Authorization === first)) {
        request.headers.Authorization = current;
      }
      return request;
    },
  });
  const scheme = Object.entries(spec.components?.securitySchemes || {}).find(([, s]) => s.type === "apiKey" && s.name === "Authorization");
  if (first && scheme) ui.preauthorizeApiKey(scheme[0], first);
} catch (error) {
  show(target, errorBox(error, { title: "Could not load the API document" }));
}
