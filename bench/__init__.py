"""Benchmarks of serverless-crud (`make bench`): each section measures against a baseline in the same run."""
