"""The state machines' Lambda entry point: one task per event, named by its `task` member.

Thin: each task is a method of `logic.jobs.JobTasks`. An exception leaves as Lambda reports it
(`errorType` = its class name), which is what the state machines' Retry and Catch match
(`WriteThrottled` when DynamoDB left writes unprocessed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from serverless_crud.observability import configure, logger
from serverless_crud.wiring import job_tasks

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    """Run the task the event names with the job's input."""
    configure()
    tasks = job_tasks()
    task, job = event["task"], event["job"]
    logger.append_keys(job=job.get("id"), task=task)
    if task == "import.split":
        return tasks.split(job)
    if task == "import.write":
        return tasks.write_chunk(job, event["chunk"], event["digest"])
    if task == "import.finish":
        return tasks.finish_import(job, event["split"])
    if task == "export.plan":
        return tasks.plan(job)
    if task == "export.part":
        return tasks.export_part(job, event["part"])
    if task == "export.join":
        return tasks.join(job, event["segments"])
    if task == "erase.count":
        return tasks.count_partition(job)
    if task == "erase.batch":
        return tasks.erase_batch(job)
    if task == "erase.finish":
        return tasks.finish_erasure(job, int(event["before"]))
    if task == "fail":
        tasks.fail(job, event.get("error") or {})
        return {"failed": True}
    raise ValueError(f"unknown task {task!r}")
