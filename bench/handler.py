"""Section "handler": the Lambda handler's cold start, warm per-request time and DynamoDB requests.

Baselines are measured in the same run: a minimal raw boto3 handler (bench/baseline.py) making
the same DynamoDB calls.
"""

from __future__ import annotations

# moto first: it adds its hook to botocore's built-in handlers, which only clients created
# afterwards get. No client below may be created before this import.
import moto  # noqa: F401  (imported for that side effect)

from bench import aws, calls, coldstart, warm
from bench.report import Options, Table

TITLE = "Lambda handler (API Gateway REST proxy -> handler -> DynamoDB)"


def run(options: Options) -> list[Table]:
    """Cold start, warm stubbed, warm moto, requests per operation."""
    aws.apply_environment()
    tables = coldstart.run(options.cold_repetitions)
    rounds, per_round, warmup = options.warm_stubbed
    tables.append(warm.run_stubbed(rounds, per_round, warmup))
    rounds, per_round, warmup = options.warm_moto
    tables.append(warm.run_moto(rounds, per_round, warmup))
    tables.append(calls.run())
    return tables
