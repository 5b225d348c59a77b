// Where the pages find the records API.
// "" means the pages' own base: the Lambda serves both, so the API is at the same origin and stage.
// When the pages are hosted elsewhere (an S3 bucket), the deployment replaces this file with the
// API's URL, e.g. export const API_BASE = "https://api.example.com/prod/"; the API's CORS must then
// allow the pages' origin.
export const API_BASE = "";
