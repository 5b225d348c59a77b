"""Errors as problem+json: domain errors mapped to their HTTP status, and the unexpected logged."""

from __future__ import annotations

from serverless_crud import errors
from serverless_crud.api.http import etag
from serverless_crud.api.problems import ApiProblem, problem_response
from serverless_crud.api.responses import Response
from serverless_crud.api.routing import PUBLIC, NotFound, Routes
from serverless_crud.observability import logger

RETRY_AFTER_SECONDS = "2"
routes = Routes(access=PUBLIC)


def _fields(field_errors: list[errors.FieldError]) -> list[dict[str, str]]:
    return [{"field": e.field, "message": e.message} for e in field_errors]


@routes.errors(NotFound)
def not_found(_: NotFound) -> Response:
    return problem_response(404, f"nothing is at {routes.event.path}")


@routes.errors(ApiProblem)
def api_problem(error: ApiProblem) -> Response:
    return problem_response(error.status, error.detail, headers=error.headers)


@routes.errors(errors.InvalidInput)
def invalid_input(error: errors.InvalidInput) -> Response:
    return problem_response(422, "the record has invalid fields", errors=_fields(error.errors))


@routes.errors(errors.InvalidFile)
def invalid_file(error: errors.InvalidFile) -> Response:
    return problem_response(422, str(error))


@routes.errors(errors.FileTooLarge)
def file_too_large(error: errors.FileTooLarge) -> Response:
    return problem_response(413, str(error))


@routes.errors(errors.InvalidStoredRecord)
def invalid_stored_record(error: errors.InvalidStoredRecord) -> Response:
    detail = (
        "the stored record breaks the record rules (it was written by another tool): "
        "replace its fields with PUT, or delete it"
    )
    return problem_response(409, detail, errors=_fields(error.errors))


@routes.errors(errors.InvalidParameter, errors.InvalidCursor)
def bad_parameter(error: errors.DomainError) -> Response:
    return problem_response(400, str(error))


@routes.errors(errors.Unauthenticated)
def unauthenticated(error: errors.Unauthenticated) -> Response:
    return problem_response(401, str(error), headers={"WWW-Authenticate": "Bearer"})


@routes.errors(errors.Forbidden)
def forbidden(error: errors.Forbidden) -> Response:
    return problem_response(403, str(error))


@routes.errors(errors.RecordNotFound)
def record_not_found(error: errors.RecordNotFound) -> Response:
    return problem_response(404, str(error))


@routes.errors(errors.RecordExists, errors.RecordBusy)
def record_conflict(error: errors.DomainError) -> Response:
    return problem_response(409, str(error))


@routes.errors(errors.VersionMismatch)
def version_mismatch(error: errors.VersionMismatch) -> Response:
    detail = f"the precondition failed: the record is at version {error.current_version}"
    return problem_response(412, detail, headers={"ETag": etag(error.current_version)})


@routes.errors(errors.StoreUnavailable)
def store_unavailable(error: errors.StoreUnavailable) -> Response:
    logger.warning("DynamoDB unavailable", extra={"reason": str(error)})
    detail = "the database is busy or unreachable; retry shortly"
    return problem_response(503, detail, headers={"Retry-After": RETRY_AFTER_SECONDS})


@routes.errors(Exception)
def unexpected(error: Exception) -> Response:
    logger.exception("unhandled error")
    return problem_response(500, "an unexpected error occurred; it has been logged")
