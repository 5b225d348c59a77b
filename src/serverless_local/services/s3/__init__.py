"""S3: buckets in moto, objects journaled, notifications."""
