"""The local runtime: template.yaml read, an embedded AWS (moto), a local API Gateway."""
