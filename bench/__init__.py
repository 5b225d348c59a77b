"""Benchmarks of serverless-crud (`make bench`): each section measures against a baseline in the same run.

Layout:
- `__main__.py`   runs the sections listed in SECTIONS, prints their tables, `--json PATH`.
- `report.py`     Table (rows, notes, targets as Check), Options (effort), median/percentile.
- `aws.py`        the function as template.yaml declares it, API Gateway REST proxy events (v1.0),
                  a Lambda context, the function's environment.
- `baseline.py`   the raw boto3 handler every ratio is measured against.
- `handler.py`    section "handler": `coldstart.py` (+ `cold_child.py`, run in fresh processes),
                  `warm.py` (Stubber and moto), `calls.py` (DynamoDB requests per operation).
- `local_runtime.py`  section "local_runtime" (the local server), written separately.

A section is a module with `TITLE: str` and `run(options: Options) -> list[Table]`.
"""
