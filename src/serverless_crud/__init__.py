"""serverless-crud: a serverless CRUD application for AWS (API Gateway, Lambda, DynamoDB)."""

__version__ = "0.1.0"
