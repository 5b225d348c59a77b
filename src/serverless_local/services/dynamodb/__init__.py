"""DynamoDB: tables in moto, journaled; ordered indexes; stream records."""
