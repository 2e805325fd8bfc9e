from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.models.types import UTCDateTime


class User(UserMixin, db.Model):
    """A coordinator account; every coordinator page needs one."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    # Part of the session's identity: changing the password signs out every other session.
    session_generation: Mapped[int] = mapped_column(default=1)
    # The language of this coordinator's pages (en, ko, ja); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.session_generation = (self.session_generation or 0) + 1

    @property
    def is_active(self) -> bool:
        return bool(self.is_active_account) if self.is_active_account is not None else True

    def get_id(self) -> str:
        """What the session cookie remembers: the account and its session generation."""
        return f"{self.id}:{self.session_generation}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"
