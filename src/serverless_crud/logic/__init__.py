"""Use-cases: what the API can do with records, independent of HTTP and of DynamoDB."""
