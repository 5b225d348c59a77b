"""Who is asking, and what they may see: the one place the access rules live.

Every use-case takes the `Caller` of the request. With `AUTH_MODE=none` every caller is `Caller.open()`
and sees everything (the open behaviour); a signed-in user owns the partition of their verified
email; members of the admin group see everything. Another owner's record is indistinguishable from
an absent one (404); asking for someone else's partition is a Forbidden (403).
"""

from __future__ import annotations

from dataclasses import dataclass

from serverless_crud.errors import Forbidden

ADMIN_GROUP = "admin"


@dataclass(frozen=True)
class Caller:
    """The identity a request carries (API Gateway's authorizer vouched for it)."""

    #: The user's stable id (Cognito `sub`); None for the open mode.
    subject: str | None
    #: The verified email, lower-cased: the partition the user owns; None for the open mode.
    email: str | None
    #: Whether the caller may see and change every record.
    admin: bool

    @classmethod
    def open(cls) -> Caller:
        """The caller of an API without authentication (`AUTH_MODE=none`): everything is visible."""
        return cls(subject=None, email=None, admin=True)

    def as_updater(self) -> dict[str, str | None]:
        """The fields a write by this caller sets about who changed the record last."""
        return {"updated_by": self.subject, "updated_by_email": self.email}

    def may_access(self, partition: str) -> bool:
        """Whether the caller may read and change the records of `partition` (an email key)."""
        return self.admin or partition == self.email

    def listing_partition(self, requested: str | None) -> str | None:
        """The partition a listing reads (None: every record, for those who see everything)."""
        if self.admin:
            return requested
        if requested is not None and requested != self.email:
            raise Forbidden("you may list only your own records")
        return self.email

    def require_access(self, partition: str) -> None:
        """Forbidden unless the caller may write records into `partition` (a create)."""
        if not self.may_access(partition):
            raise Forbidden("you may create records only under your own email")
