"""When a share link was last used, and by which client: shown beside each link to coordinators.

Before replacing a link, a coordinator wants to know whether anyone still uses it (a calendar
app polling the feed every few minutes, or nobody for weeks).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.extensions import db
from scheduler.models.types import UTCDateTime

USER_AGENT_LENGTH = 200


class ShareLinkUse(db.Model):
    """The last use of one share link, by its selector: a replaced link starts with none."""

    __tablename__ = "share_link_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    share_selector: Mapped[str] = mapped_column(String(16), unique=True)
    # What was fetched last: "calendar" (the feed), "page", "agenda" or "pdf".
    used_for: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The client's User-Agent header, cut to a length worth showing; None when it sent none.
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_LENGTH))
