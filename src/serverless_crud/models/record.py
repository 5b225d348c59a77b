"""The record model (pydantic), defined once: the request validator, the OpenAPI schemas and the
UI's form all derive from it.

Requests are not validated by pydantic at run time (its import would double the first write's cold
start): `schemas()` turns these models into JSON Schemas, written to `models/schemas.json` by
`make schemas`, and `models.validation` checks requests and stored rows against them. What JSON
Schema cannot say (trimming, blank texts, DynamoDB's numbers, email normalisation) is marked with
`x-` keywords whose behaviour is the functions of `models.values` and `models.keys`, which these
models call as validators too. A test keeps the file equal to `schemas()` and another proves that
pydantic and the validator accept and reject the same bodies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    create_model,
)
from pydantic.fields import FieldInfo

from serverless_crud.models import values
from serverless_crud.models.keys import MAX_EMAIL_LENGTH, MAX_ID, normalise_email

SERVER_FIELDS = (
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "created_by_email",
    "updated_by_email",
)
CONFIG = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")


def _positive_id(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValueError(f"must be a whole number from 1 to {MAX_ID}")
    return value


def _text(max_length: int, *, blank_is_none: bool = False) -> Any:
    """A text whose limits apply to what is sent; stored without surrounding white space."""
    checks: list[Any] = [
        StringConstraints(max_length=max_length, pattern=values.NOT_BLANK),
        AfterValidator(values.trim),
    ]
    if blank_is_none:  # a blank optional text clears the field
        checks = [StringConstraints(max_length=max_length), AfterValidator(values.trim)]
    return Annotated[str, *checks]


def _extra(**keywords: Any) -> Any:
    return Field(json_schema_extra=keywords)


Email = Annotated[
    str,
    AfterValidator(normalise_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_EMAIL_LENGTH}),
]
RecordId = Annotated[
    int,
    BeforeValidator(_positive_id),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_ID,
            "description": "A whole number, 1 or more, written without a fraction or exponent.",
        }
    ),
]
ExactNumber = Annotated[
    Decimal,
    BeforeValidator(values.exact_number),
    WithJsonSchema(
        {
            "type": "number",
            "exclusiveMinimum": -1e126,
            "exclusiveMaximum": 1e126,
            "description": "A number kept exactly as written: up to 38 digits, a decimal point if needed.",
            "x-dynamodb-number": True,
        }
    ),
]


class RecordFields(BaseModel):
    """The fields a client sets: the body of PUT, and of POST with the key added."""

    model_config = CONFIG

    # Titles and descriptions are the words the form shows (labels and help texts) and the API docs;
    # each limit is said by the schema alone (the form words it once), never repeated here.
    name: _text(200) = Field(  # type: ignore[valid-type]
        title="Name",
        description="The name shown in the list and at the top of the record.",
        examples=["Alice Example"],
        json_schema_extra={"x-trim": True},
    )
    phone: Annotated[Optional[_text(32, blank_is_none=True)], AfterValidator(values.blank_to_none)] = Field(  # type: ignore[valid-type]  # noqa: UP045
        default=None,
        title="Phone",
        description="In any format, for example +44 20 7946 0000.",
        json_schema_extra={"x-trim": True, "x-blank-is-null": True},
    )
    notes: Annotated[Optional[_text(4000, blank_is_none=True)], AfterValidator(values.blank_to_none)] = Field(  # type: ignore[valid-type]  # noqa: UP045
        default=None,
        title="Notes",
        description="Anything worth keeping with the record. Line breaks are kept.",
        json_schema_extra={"x-trim": True, "x-blank-is-null": True},
    )
    tags: Annotated[list[_text(50)], Field(max_length=20)] = Field(  # type: ignore[valid-type]
        default=[],  # pydantic copies it for each record; a default, unlike a factory, is in the schema
        title="Tags",
        description="Short labels to group and find records, such as customer or 2025.",
        json_schema_extra={"x-trim": True},
    )
    amount: Optional[ExactNumber] = Field(  # noqa: UP045
        default=None,
        title="Amount",
        description="A number such as 1250.50, kept exactly as typed, up to 38 digits.",
    )
    active: bool = Field(
        default=True,
        title="Active",
        description="Clear it to mark the record inactive; it is kept either way.",
    )


class RecordCreate(RecordFields):
    """The body of POST /records: the fields and the key (the id is assigned when absent)."""

    email: Email = Field(
        title="Email",
        description="Whose record this is. It cannot be changed later.",
        examples=["alice@example.com"],
    )
    id: Optional[RecordId] = Field(  # noqa: UP045
        default=None, title="Id", description="Leave it empty to get the next free number."
    )


class Record(RecordFields):
    """A record as the API returns it (rows written by other tools: see the README)."""

    # The defaults are what a row written by another tool reads as when it lacks the field; every
    # field is in every response.
    model_config = ConfigDict(**CONFIG, json_schema_serialization_defaults_required=True)

    email: str = Field(min_length=1, title="Email", description="Whose record this is, as stored.")
    id: Annotated[RecordId, Field(title="Id")]
    version: int = Field(
        default=1, ge=1, title="Version", description="Set by the server: 1, then one more on every change."
    )
    created_at: Optional[str] = Field(  # noqa: UP045
        default=None,
        title="Created",
        description="When it was created (RFC 3339, UTC); null for a row written by another tool.",
    )
    updated_at: Optional[str] = Field(  # noqa: UP045
        default=None,
        title="Last changed",
        description="When it was last changed (RFC 3339, UTC); null for a row written by another tool.",
    )
    created_by: Optional[str] = Field(  # noqa: UP045
        default=None,
        title="Created by",
        description="The user id (Cognito sub) of who created it; null when sign-in is off or for a row "
        "written by another tool.",
    )
    updated_by: Optional[str] = Field(  # noqa: UP045
        default=None,
        title="Last changed by",
        description="The user id (Cognito sub) of who changed it last; null as for created_by.",
    )
    # People are shown by email: each write keeps the signed-in user's email beside the id. Rows
    # written before have none (the id is shown until the next change). `x-email-of` pairs them.
    created_by_email: Optional[str] = Field(  # noqa: UP045
        default=None,
        title="Created by",
        description="The email of who created it; null as for created_by.",
        json_schema_extra={"x-email-of": "created_by"},
    )
    updated_by_email: Optional[str] = Field(  # noqa: UP045
        default=None,
        title="Last changed by",
        description="The email of who changed it last; null as for updated_by.",
        json_schema_extra={"x-email-of": "updated_by"},
    )


def _patch_field(info: FieldInfo) -> tuple[Any, Any]:
    """A field of the merge patch: the record field's rules; null allowed where it resets a default."""
    annotation: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    extra = dict(info.json_schema_extra or {}) if isinstance(info.json_schema_extra, dict) else {}
    if info.is_required():  # null cannot remove a required field: not nullable in the patch
        return annotation, Field(None, description=info.description, json_schema_extra=extra)
    description = f"{info.description} null resets it to its default."
    return Optional[annotation], Field(None, description=description, json_schema_extra=extra)  # noqa: UP045


#: JSON Merge Patch body (RFC 7396): any subset of the fields; null resets a field to its default.
RecordPatch: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "RecordPatch",
    __config__=CONFIG,
    __doc__="The body of PATCH: JSON Merge Patch (RFC 7396) of the record's fields.",
    **{name: _patch_field(info) for name, info in RecordFields.model_fields.items()},
)

MODELS: dict[str, tuple[type[BaseModel], Literal["validation", "serialization"]]] = {
    "Record": (Record, "serialization"),
    "RecordCreate": (RecordCreate, "validation"),
    "RecordFields": (RecordFields, "validation"),
    "RecordPatch": (RecordPatch, "validation"),
}


def schemas() -> dict[str, Any]:
    """The JSON Schema of each model, as `components.schemas` of the OpenAPI document holds them."""
    from pydantic.json_schema import models_json_schema

    _, document = models_json_schema(
        [(model, mode) for model, mode in MODELS.values()], ref_template="#/components/schemas/{model}"
    )
    result: dict[str, Any] = document["$defs"]
    for name in ("RecordPatch",):
        for prop in result[name]["properties"].values():
            if prop.get("default", ...) is None and "anyOf" not in prop:
                del prop["default"]  # required fields of the record: absent, never null
    return {name: result[name] for name in sorted(result)}
