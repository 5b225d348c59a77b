"""Data access: the record repository over DynamoDB, its attribute codec and signed cursors."""
