"""Agenda PDFs rendered by a background job, stored where every host sees them.

One row per copy (programme version, whose copy, audience, paper, link, renderer), keyed by
the digest of :class:`scheduler.agenda.pdf_cache.PdfKey`. The unique ``cache_key`` is the
lock: a job claims a copy by inserting its row in state ``rendering`` (``INSERT ... ON
CONFLICT DO NOTHING``); a second worker finds the row and leaves it alone. The job then
stores the bytes and sets ``ready``. A claim older than ``STALE_CLAIM`` (a worker that died
mid-render) may be taken over.

Not a foreign key to the delegation: a cache, pruned by revision, that never holds up a
delete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.models.types import UTCDateTime

RENDERING = "rendering"
READY = "ready"
FAILED = "failed"


class RenderedPdf(db.Model):
    __tablename__ = "rendered_pdf"
    __table_args__ = (Index("ix_rendered_pdf_delegation_revision", "delegation_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cache_key: Mapped[str] = mapped_column(String(64), unique=True)
    delegation_id: Mapped[int]
    revision: Mapped[int]
    # Older revisions are pruned per audience: a coordinator's copy of the draft (a newer
    # revision) must not remove the share copies of the published release.
    audience: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12), default=RENDERING)
    data: Mapped[bytes | None] = mapped_column(LargeBinary())
    etag: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
