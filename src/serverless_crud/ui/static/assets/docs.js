// Swagger UI for the API's OpenAPI document, with the API's own base URL as its server (so that
// "Try it out" keeps the stage prefix, or reaches the API when the pages are hosted elsewhere).
import { apiUrl } from "./api.js";
import { errorBox, show } from "./ui.js";

const target = document.getElementById("swagger-ui");

try {
  const response = await fetch(apiUrl("openapi.json"), { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`The server answered ${response.status}.`);
  const spec = await response.json();
  spec.servers = [{ url: apiUrl("").href.replace(/\/$/, ""), description: "This API" }];
  window.SwaggerUIBundle({ spec, domNode: target, deepLinking: true, validatorUrl: null, defaultModelsExpandDepth: 0 });
} catch (error) {
  show(target, errorBox(error, { title: "Could not load the API document" }));
}
