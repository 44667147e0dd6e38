"""The shapes of citizens' channels: the public form and progress answer, the agents' review
queue, attachments, Open311 client applications."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator

from intake.citizens.rules import AttachmentKind, PublicStage, SubmissionSource
from intake.privacy import valid_phone
from intake.tickets.schemas import Decision
from shared.geo import Datum, PointIn
from shared.schemas import Words
from shared.service import CategoriesRead
from shared.vocabulary import TicketType


class ChallengeRead(BaseModel):
    challenge: str
    bits: int = Field(description="leading zero bits SHA-256(challenge + ':' + nonce) must have")
    expires_at: datetime


class PublicForm(BaseModel):
    """What the public form offers: the categories (with their help) and how many photos."""

    photos_max: int
    categories: CategoriesRead


class PublicSubmission(BaseModel):
    """The 我要反映 form (multipart, with the photos beside it)."""

    ticket_type: TicketType | None = None
    category: str | None = Field(default=None, max_length=100)
    text: Words = Field(max_length=2000, description="the matter in the citizen's words")
    place: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    datum: Datum = Datum.WGS84
    share_place: bool = Field(
        default=False, description="take the place from the photos' GPS if no point is given"
    )
    name: str | None = Field(default=None, max_length=100)
    phone: Annotated[str, AfterValidator(valid_phone)] = Field(max_length=30)
    contact_consent: bool = Field(
        description="the citizen agreed to be contacted about the matter at this phone"
    )
    challenge: str = Field(max_length=200)
    nonce: str = Field(max_length=32)

    @model_validator(mode="after")
    def _whole_point(self) -> PublicSubmission:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self

    def point(self) -> PointIn | None:
        if self.lat is None or self.lon is None:
            return None
        return PointIn(lat=self.lat, lon=self.lon, datum=self.datum)


class Receipt(BaseModel):
    number: str = Field(description="the matter's number, to ask for progress with")
    received_at: datetime
    photos: int


class Progress(BaseModel):
    """What anyone holding the number and the phone's last four digits is told: nothing
    personal."""

    number: str
    stage: PublicStage
    stage_label: str
    received_at: datetime
    ticket_type: str | None
    category: str | None
    unit_name: str | None
    due_at: datetime | None
    answer: str | None


class AttachmentRead(BaseModel):
    id: str
    kind: AttachmentKind
    content_type: str
    size: int
    added_by: str
    added_at: datetime


class SubmissionRead(BaseModel):
    """A submission as the reviewing agent sees it (contact masked; the form's own words)."""

    id: str
    number: str
    source: SubmissionSource
    client_name: str | None
    ticket_type: str | None
    category: str | None
    text: str
    place: str | None
    latitude: float | None
    longitude: float | None
    district: str | None = Field(description="the district the point lies in, to confirm")
    caller_name: str | None
    caller_phone: str | None
    contact_consent: bool
    media_url: str | None
    received_at: datetime
    ticket_id: str | None
    reviewed_at: datetime | None
    reviewed_by: str | None
    attachments: list[AttachmentRead]


class SubmissionPage(BaseModel):
    items: list[SubmissionRead]
    total: int


class Review(Decision):
    """The agent's decision on a submission, as on a call (Art 11, 13); the words, caller and
    channel are the submission's. A place or point given here corrects the citizen's."""


class Open311ClientCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class Open311ClientRead(BaseModel):
    id: str
    name: str
    active: bool
    created_at: datetime
    created_by: str
    api_key: str | None = Field(default=None, description="shown once, when registered")


class Open311ClientList(BaseModel):
    items: list[Open311ClientRead]
