"""Citizens' own channels: submissions awaiting an agent's review, attachments, Open311 client
applications, and the counters that hold the public endpoints to their limits."""

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, text
from sqlmodel import Field, SQLModel


class Submission(SQLModel, table=True):
    """What a citizen sent through the web form or an Open311 application; it reaches no unit
    until an agent has reviewed it into a ticket (which keeps its number)."""

    __tablename__ = "submission"
    __table_args__ = (
        # The agents' review queue: the oldest pending first.
        Index("ix_submission_pending", "received_at", postgresql_where=text("ticket_id IS NULL")),
        # Open311's lists: by date, newest first.
        Index("ix_submission_received_at", "received_at"),
        {"schema": "intake"},
    )

    id: str = Field(primary_key=True)
    number: str = Field(unique=True)
    token: str = Field(unique=True)  # Open311's handle before the request is reviewed
    idempotency_key: str | None = Field(default=None, unique=True)
    source: str  # SubmissionSource
    client_id: str | None = None  # the Open311 application that sent it
    ticket_type: str | None = None  # as the citizen chose it; the agent decides
    category: str | None = None
    text: str  # scrubbed of the citizen's identity
    # The words as sent and the citizen's name and phone (Fernet ciphertext, like a ticket's),
    # until the review copies them into the ticket and erases them here.
    text_sealed: str | None = None
    place: str | None = None
    latitude: float | None = None  # WGS-84
    longitude: float | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    caller_phone_hash: str | None = Field(default=None, index=True)
    pii_key_id: str | None = None  # None once erased
    contact_consent: bool = False  # agreed to be contacted (and told by SMS) at that phone
    media_url: str | None = None  # an Open311 client's link, shown to the agent, never fetched
    received_at: datetime
    ticket_id: str | None = Field(default=None, foreign_key="intake.ticket.id")
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None


class Attachment(SQLModel, table=True):
    """A photo or document on a submission or ticket; its bytes are in the store."""

    __tablename__ = "attachment"
    __table_args__ = {"schema": "intake"}

    id: str = Field(primary_key=True)
    submission_id: str | None = Field(default=None, foreign_key="intake.submission.id", index=True)
    ticket_id: str | None = Field(default=None, foreign_key="intake.ticket.id", index=True)
    kind: str  # AttachmentKind
    content_type: str
    size: int
    sha256: str
    store_key: str
    added_by: str  # "citizen", or the role:subject of staff
    unit_id: str | None = None  # the unit that attached it (feedback evidence)
    added_at: datetime


class Blob(SQLModel, table=True):
    """The embedded default store's bytes (production keeps them in object storage)."""

    __tablename__ = "blob"
    __table_args__ = {"schema": "intake"}

    key: str = Field(primary_key=True)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Open311Client(SQLModel, table=True):
    """An application registered by an admin to post requests; only its key's hash is kept."""

    __tablename__ = "open311_client"
    __table_args__ = {"schema": "intake"}

    id: str = Field(primary_key=True)
    name: str
    key_hash: str = Field(unique=True)
    active: bool = True
    created_at: datetime
    created_by: str


class RateWindow(SQLModel, table=True):
    """How many requests one sender (an address, a phone's hash, an application) made in one
    window; old windows are deleted hourly."""

    __tablename__ = "rate_window"
    __table_args__ = {"schema": "intake"}

    bucket: str = Field(primary_key=True)
    started_at: datetime = Field(primary_key=True)
    hits: int


class SpentChallenge(SQLModel, table=True):
    """A solved proof-of-work challenge, kept until it expires so it is never used twice."""

    __tablename__ = "spent_challenge"
    __table_args__ = {"schema": "intake"}

    id: str = Field(primary_key=True)
    expires_at: datetime = Field(index=True)
