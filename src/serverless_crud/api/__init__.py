"""HTTP: the Powertools REST resolver, routes, problem+json errors, CORS, OpenAPI."""
