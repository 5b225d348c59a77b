"""Cognito user pools, and API Gateway's Cognito authorizer."""
