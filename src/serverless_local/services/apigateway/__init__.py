"""API Gateway (REST APIs): routes, authorizers, request validators, the gateway."""
