"""The Lambda entry point of the history: the records table's stream, in batches (docs/history.md).

Each change becomes its entry, in the stream's order. When one cannot be written the batch stops
there and answers `batchItemFailures` naming it (ReportBatchItemFailures): Lambda retries from that
change, and what came before it is not written again; a batch that keeps failing is split
(BisectBatchOnFunctionError), then sent to the dead-letter queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from serverless_crud.observability import configure, logger, metrics
from serverless_crud.wiring import history_changes, history_recorder

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Write the entries of one batch of stream records; the first that failed, if any."""
    configure()
    records = event.get("Records") or []
    recorder = history_recorder()
    try:
        for record in records:
            try:
                recorder.record([history_changes(record)])
            except Exception:
                from aws_lambda_powertools.metrics import MetricUnit

                metrics.add_metric(name="HistoryWriteFailures", unit=MetricUnit.Count, value=1)
                logger.exception(
                    "a change could not be written to the history; retried from here",
                    extra={"sequence": record.get("dynamodb", {}).get("SequenceNumber")},
                )
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}
    finally:
        recorder.done()
        if metrics.metric_set:
            metrics.flush_metrics()
