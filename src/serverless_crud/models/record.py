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
            "description": "A whole number written without a fraction or exponent.",
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
            "description": "Exact decimal: at most 38 significant digits; zero or 1e-130 to 1e126 in size.",
            "x-dynamodb-number": True,
        }
    ),
]


#: The JSON Schema keywords `usage` writes.
USAGE_KEYWORDS = (
    "title",
    "x-help",
    "x-search",
    "x-sort",
    "x-list",
    "x-filter",
    "x-key",
    "x-server",
    "x-csv",
    "x-email-of",
)


def usage(
    label: str,
    help: str,
    *,
    search: Literal["words", "digits"] | None = None,
    sort: str | None = None,
    listed: bool = False,
    filter: Literal["tag", "flag"] | None = None,
    key: Literal["partition", "sort"] | None = None,
    server: bool = False,
    csv: bool = True,
    email_of: str | None = None,
) -> dict[str, Any]:
    """How the product uses a field, beside its type and rules (see docs/make-it-yours.md).

    `label` and `help` are for people (the UI's form, view and list, the import page); the field's
    `description` is for the API. `search`: its words are found by `q` ("digits": also its digits
    alone, as a phone number is typed). `sort`: sortable, on the derived attribute `_<sort>` and the
    indexes `by_<sort>` and `all_by_<sort>` (template.yaml declares them; a test names any missing).
    `listed`: a column of the UI's list. `filter`: the listing's `tag` filter, or a true/false
    filter named like the field. `csv`: a column of CSV exports and imports (in declaration order).
    `email_of`: this field holds the email of the person whose user id is in that field; the UI
    shows a person by this email (by the id when a row has none).
    """
    keywords: dict[str, Any] = {"title": label, "x-help": help}
    optional = {"x-search": search, "x-sort": sort, "x-filter": filter, "x-key": key, "x-email-of": email_of}
    keywords.update({k: v for k, v in optional.items() if v is not None})
    if listed:
        keywords["x-list"] = True
    if server:
        keywords["x-server"] = True
    if not csv:
        keywords["x-csv"] = False
    return keywords


class RecordFields(BaseModel):
    """The fields a client sets: the body of PUT, and of POST with the key added."""

    model_config = CONFIG

    name: _text(200) = Field(  # type: ignore[valid-type]
        description="Display name: 1-200 characters as sent, not blank; stored trimmed.",
        examples=["Alice Example"],
        json_schema_extra={
            **usage(
                "Name",
                "The name shown in the list and at the top of the record.",
                search="words",
                sort="name",
                listed=True,
            ),
            "x-trim": True,
        },
    )
    phone: Annotated[Optional[_text(32, blank_is_none=True)], AfterValidator(values.blank_to_none)] = Field(  # type: ignore[valid-type]  # noqa: UP045
        default=None,
        description="Phone number, at most 32 characters; blank clears it.",
        json_schema_extra={
            **usage("Phone", "In any format, for example +44 20 7946 0000.", search="digits"),
            "x-trim": True,
            "x-blank-is-null": True,
        },
    )
    notes: Annotated[Optional[_text(4000, blank_is_none=True)], AfterValidator(values.blank_to_none)] = Field(  # type: ignore[valid-type]  # noqa: UP045
        default=None,
        description="Free text, at most 4000 characters; blank clears it.",
        json_schema_extra={
            **usage("Notes", "Anything worth keeping with the record. Line breaks are kept.", search="words"),
            "x-trim": True,
            "x-blank-is-null": True,
        },
    )
    tags: Annotated[list[_text(50)], Field(max_length=20)] = Field(  # type: ignore[valid-type]
        default=[],  # pydantic copies it for each record; a default, unlike a factory, is in the schema
        description="Labels: at most 20, each 1-50 characters as sent, not blank; stored trimmed.",
        json_schema_extra={
            **usage(
                "Tags",
                "Short labels to group and find records, such as customer or 2025.",
                search="words",
                filter="tag",
                listed=True,
            ),
            "x-trim": True,
        },
    )
    amount: Optional[ExactNumber] = Field(  # noqa: UP045
        default=None,
        description="Exact decimal amount.",
        json_schema_extra=usage(
            "Amount", "A number such as 1250.50, kept exactly as typed.", sort="amount", listed=True
        ),
    )
    active: bool = Field(
        default=True,
        description="Whether the record is active.",
        json_schema_extra=usage(
            "Active",
            "Clear it to mark the record inactive; it is kept either way.",
            filter="flag",
            listed=True,
        ),
    )


class RecordCreate(RecordFields):
    """The body of POST /records: the fields and the key (the id is assigned when absent).

    The key fields' usage (label, help, sort) is declared once, on `Record`; `schemas()` copies it here.
    """

    email: Email = Field(
        description="Partition key: a valid address (checked by email-validator, no DNS lookup), "
        "stored lower-cased.",
        examples=["alice@example.com"],
    )
    id: Optional[RecordId] = Field(  # noqa: UP045
        default=None, description="Sort key; assigned by the server when absent."
    )


class Record(RecordFields):
    """A record as the API returns it (rows written by other tools: see docs/make-it-yours.md)."""

    # The defaults are what a row written by another tool reads as when it lacks the field; every
    # field is in every response.
    model_config = ConfigDict(**CONFIG, json_schema_serialization_defaults_required=True)

    email: str = Field(
        min_length=1,
        description="Partition key as stored.",
        json_schema_extra=usage(
            "Email", "Whose record this is. It cannot be changed later.", key="partition", listed=True
        ),
    )
    id: RecordId = Field(
        json_schema_extra=usage(
            "Id", "Leave it empty to get the next free number.", key="sort", sort="id", listed=True
        )
    )
    version: int = Field(
        default=1,
        ge=1,
        description="Server-managed; +1 on every change; the ETag.",
        json_schema_extra=usage("Version", "How many times the record was saved.", server=True),
    )
    created_at: Optional[str] = Field(  # noqa: UP045
        default=None,
        description="RFC 3339 UTC, server-managed; null if the row was written by another tool.",
        json_schema_extra={
            **usage("Created", "When the record was created.", server=True),
            "format": "date-time",
        },
    )
    updated_at: Optional[str] = Field(  # noqa: UP045
        default=None,
        description="RFC 3339 UTC, server-managed; null if the row was written by another tool.",
        json_schema_extra={
            **usage("Updated", "When the record was last changed.", server=True, sort="updated", listed=True),
            "format": "date-time",
        },
    )
    created_by: Optional[str] = Field(  # noqa: UP045
        default=None,
        description="Server-managed: the signed-in user (Cognito sub) who created it; null in the open mode "
        "or for rows written by another tool.",
        json_schema_extra=usage("Created by", "Who created the record.", server=True),
    )
    updated_by: Optional[str] = Field(  # noqa: UP045
        default=None,
        description="Server-managed: the user (Cognito sub) who changed it last; null as for created_by.",
        json_schema_extra=usage("Updated by", "Who changed the record last.", server=True),
    )
    # People are shown by email: each write keeps the signed-in user's email beside the id (rows
    # written before have none, and show the id until their next change).
    created_by_email: Optional[str] = Field(  # noqa: UP045
        default=None,
        description="Server-managed: the email of the signed-in user who created it; null as for created_by.",
        json_schema_extra=usage(
            "Creator's email", "The email of who created the record.", server=True, email_of="created_by"
        ),
    )
    updated_by_email: Optional[str] = Field(  # noqa: UP045
        default=None,
        description="Server-managed: the email of the user who changed it last; null as for created_by.",
        json_schema_extra=usage(
            "Last editor's email",
            "The email of who changed the record last.",
            server=True,
            email_of="updated_by",
        ),
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
    # A field's usage is declared once (the key fields' on Record): every schema that has the field
    # carries it, so that a form of any of them reads the same labels and help.
    declared = result["Record"]["properties"]
    for schema in result.values():
        for field, prop in schema["properties"].items():
            prop.update({k: v for k, v in declared[field].items() if k in USAGE_KEYWORDS})
    return {name: result[name] for name in sorted(result)}
