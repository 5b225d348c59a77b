"""API Gateway HTTP APIs: payload 2.0 and 1.0, JWT and Lambda authorizers, CORS."""
