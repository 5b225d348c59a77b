"""The record model (pydantic): validation, the OpenAPI schema and the UI's form all derive from it.

Add a field here and it is validated, stored, documented and shown in the edit form.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from serverless_crud.errors import FieldError, InvalidInput
from serverless_crud.models.keys import MAX_EMAIL_LENGTH, MAX_ID, normalise_email

#: DynamoDB numbers: up to 38 significant digits, magnitude between 1e-130 and 1e126.
MAX_SIGNIFICANT_DIGITS = 38
SERVER_FIELDS = frozenset({"version", "created_at", "updated_at"})


def _exact_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError("must be a number")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if number and not -130 <= number.adjusted() <= 125:
        raise ValueError("must be between 1e-130 and 1e126 in magnitude")
    # Not Decimal.normalize(): it rounds to the context's 28 digits.
    significant = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(significant) > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(f"must have at most {MAX_SIGNIFICANT_DIGITS} significant digits")
    return number


def _positive_id(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValueError(f"must be an integer from 1 to {MAX_ID}")
    return value


def _blank_to_none(value: str | None) -> str | None:
    return value or None


Email = Annotated[
    str,
    AfterValidator(normalise_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_EMAIL_LENGTH}),
]
RecordId = Annotated[
    int,
    BeforeValidator(_positive_id),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
]
ExactNumber = Annotated[
    Decimal,
    BeforeValidator(_exact_number),
    WithJsonSchema({"type": "number", "description": "Exact decimal, up to 38 significant digits."}),
]


Phone = Annotated[
    Optional[Annotated[str, StringConstraints(max_length=32)]],  # noqa: UP045
    AfterValidator(_blank_to_none),
]
Notes = Annotated[
    Optional[Annotated[str, StringConstraints(max_length=4000)]],  # noqa: UP045
    AfterValidator(_blank_to_none),
]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]


class RecordFields(BaseModel):
    """The fields a client sets: the body of PUT, and of POST with the key added."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Display name.", examples=["Alice Example"]
    )
    phone: Phone = Field(default=None, description="Phone number.")
    notes: Notes = Field(default=None, description="Free text.")
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list, description="Labels.")
    amount: Optional[ExactNumber] = Field(default=None, description="Exact decimal amount.")  # noqa: UP045
    active: bool = Field(default=True, description="Whether the record is active.")


class RecordCreate(RecordFields):
    """The body of POST /records: the fields and the key (the id is assigned when absent)."""

    email: Email = Field(description="Partition key; stored lower-cased.", examples=["alice@example.com"])
    id: Optional[RecordId] = Field(  # noqa: UP045
        default=None, description="Sort key; assigned by the server when absent."
    )


class Record(RecordFields):
    """A stored record as the API returns it."""

    model_config = ConfigDict(extra="allow", strict=True)

    email: Email
    id: RecordId
    version: int = Field(ge=1, description="Server-managed; +1 on every change; the ETag.")
    created_at: str = Field(description="RFC 3339 UTC, server-managed.")
    updated_at: str = Field(description="RFC 3339 UTC, server-managed.")


def _optional_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: (Optional[info.annotation], Field(None, description=info.description))  # noqa: UP045
        for name, info in model.model_fields.items()
    }


#: JSON Merge Patch body (RFC 7396): any subset of the fields; null removes an optional field.
RecordPatch: type[BaseModel] = create_model(
    "RecordPatch", __config__=RecordFields.model_config, **_optional_fields(RecordFields)
)
REQUIRED_FIELDS = frozenset(name for name, info in RecordFields.model_fields.items() if info.is_required())
FIELD_DEFAULTS = {
    name: info.get_default(call_default_factory=True)
    for name, info in RecordFields.model_fields.items()
    if not info.is_required()
}


def _field_errors(error: ValidationError) -> list[FieldError]:
    errors = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "body"
        if detail["type"] == "extra_forbidden":
            message = "is managed by the server" if field in SERVER_FIELDS else "is not a field of a record"
        elif detail["type"] == "missing":
            message = "is required"
        else:
            message = detail["msg"].removeprefix("Value error, ")
        errors.append(FieldError(field, message))
    return errors


def validate(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """Validate `body` against `model`; return the clean values or raise InvalidInput."""
    try:
        return model.model_validate(body).model_dump(exclude_unset=model is RecordPatch)
    except ValidationError as error:
        raise InvalidInput(_field_errors(error)) from None
