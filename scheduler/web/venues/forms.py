"""Forms of the venues area: venues with rooms and opening hours, travel times."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from scheduler.models import WEEKDAYS
from scheduler.web.fields import (
    EditStamped,
    key_field,
    strip_or_none,
    text_field,
    valid_key,
    valid_zone,
)

WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
HHMM = r"(?:[01]\d|2[0-3]):[0-5]\d|24:00"
SPAN = re.compile(rf"^\s*({HHMM})\s*[-–]\s*({HHMM})\s*$")


def parse_hours(text: str | None) -> list[list[str]]:
    """'08:00-12:00, 13:00-18:00' -> [['08:00', '12:00'], ['13:00', '18:00']]; ValueError if not."""
    spans = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = SPAN.match(part)
        if not match:
            raise ValueError(_("'%(text)s' is not a span like 08:00-18:00", text=part.strip()))
        opens, closes = match.groups()
        if closes <= opens:
            raise ValueError(_("%(text)s: closes before it opens", text=part.strip()))
        spans.append([opens, closes])
    return spans


def format_hours(spans) -> str:
    return ", ".join(f"{a}-{b}" for a, b in spans or [])


class RoomForm(Form):
    """One row of the venue's rooms; a blank row adds nothing."""

    room_id = HiddenField()
    # No Optional(): it would stop the chain before the checks below, which know about blank rows.
    key = StringField(_l("Room key"), validators=[Length(max=64)], filters=[strip_or_none])
    name = StringField(_l("Room name"), validators=[Length(max=300)], filters=[strip_or_none])
    capacity = IntegerField(
        _l("Capacity"),
        validators=[Optional(), NumberRange(min=1, message=_l("At least 1 person."))],
    )

    @property
    def is_blank(self) -> bool:
        return not (self.room_id.data or self.key.data or self.name.data or self.capacity.data)

    def validate_key(self, field) -> None:
        if self.is_blank:
            return
        if not field.data:
            raise ValidationError(_("A room needs a key."))
        valid_key(self, field)

    def validate_name(self, field) -> None:
        if not self.is_blank and not field.data:
            raise ValidationError(_("A room needs a name."))


class VenueForm(EditStamped, FlaskForm):
    key = key_field()
    name = text_field(_l("Name"), required=True)
    native_name = text_field(_l("Name in the local language"))
    address = text_field(_l("Address"), max_length=1000)
    timezone = text_field(
        _l("Time zone"),
        required=True,
        max_length=64,
        description=_l("IANA name, such as Asia/Tokyo."),
    )
    latitude = FloatField(
        _l("Latitude"), validators=[Optional(), NumberRange(-90, 90, _l("Between -90 and 90."))]
    )
    longitude = FloatField(
        _l("Longitude"),
        validators=[Optional(), NumberRange(-180, 180, _l("Between -180 and 180."))],
    )
    rooms = FieldList(FormField(RoomForm), min_entries=0)

    def validate_timezone(self, field) -> None:
        valid_zone(self, field)

    def validate_rooms(self, field) -> None:
        seen = set()
        for row in field:
            key = row.form.key.data
            if key and key in seen:
                row.form.key.errors.append(_("Two rooms have the key '%(key)s'.", key=key))
                raise ValidationError(_("Room keys must differ."))
            seen.add(key)


for _day in WEEKDAYS:
    setattr(
        VenueForm,
        f"hours_{_day}",
        text_field(WEEKDAY_NAMES[_day], max_length=200),
    )


def opening_hours_from(form: VenueForm) -> dict | None:
    """The form's opening hours, or None (always open) when no day has any; errors on the fields."""
    hours = {}
    for day in WEEKDAYS:
        field = form[f"hours_{day}"]
        try:
            spans = parse_hours(field.data)
        except ValueError as exc:
            field.errors = [*field.errors, f"{exc}."]
            continue
        if spans:
            hours[day] = spans
    return hours or None


class TravelTimeForm(EditStamped, FlaskForm):
    from_venue_id = SelectField(_l("From"), coerce=int, choices=[])
    to_venue_id = SelectField(_l("To"), coerce=int, choices=[])
    minutes = IntegerField(
        _l("Minutes door to door"),
        validators=[InputRequired(_l("How many minutes?")), NumberRange(min=0, max=10000)],
    )
    mode = text_field(_l("Mode"), description=_l("Such as car, train or walk."))

    def validate_to_venue_id(self, field) -> None:
        if field.data == self.from_venue_id.data:
            raise ValidationError(_("Choose two different venues."))
