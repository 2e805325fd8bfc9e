"""Form fields and helpers every area's forms share: keys, text, local times, stale edits."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import TextInput

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms before 3.3 takes (value, label, render_kw) tuples
    SelectChoice = None

from scheduler.itinerary.editing import (
    KEY_RE,
    changed_since,
    edit_stamp,
    local_to_utc,
    repeated_wall_time_offsets,
    utc_to_form,
)
from scheduler.itinerary.times import WallClockError, is_valid_zone


def choice(value, label: str, **render_kw):
    """One option of a select, in the form this WTForms version expects."""
    if SelectChoice is None:
        return (value, label, render_kw)
    return SelectChoice(value, label, render_kw)


def choices(pairs) -> list:
    return [choice(value, label) for value, label in pairs]


def strip_or_none(value):
    """Blank text is no value: stored as NULL, left out of the export."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def valid_key(_form, field) -> None:
    if field.data and not KEY_RE.match(field.data):
        raise ValidationError(
            _("Use lowercase letters, digits and single hyphens, such as 'shonan-ipark'.")
        )


def valid_zone(_form, field) -> None:
    if field.data and not is_valid_zone(field.data):
        raise ValidationError(
            _("'%(zone)s' is not an IANA time zone (such as Asia/Seoul).", zone=field.data)
        )


def key_field(label: str | None = None, required: bool = True) -> StringField:
    return StringField(
        label if label is not None else _l("Key"),
        validators=[DataRequired() if required else Optional(), Length(max=64), valid_key],
        filters=[strip_or_none],
        description=_l("Short identifier used in documents and links; cannot be changed later."),
    )


def text_field(label: str, required: bool = False, max_length: int = 300, **kwargs) -> StringField:
    return StringField(
        label if label is not None else _l("Key"),
        validators=[DataRequired() if required else Optional(), Length(max=max_length)],
        filters=[strip_or_none],
        **kwargs,
    )


def long_text_field(label: str, **kwargs) -> TextAreaField:
    return TextAreaField(
        label, validators=[Optional(), Length(max=20000)], filters=[strip_or_none], **kwargs
    )


class EditStamped:
    """A form that refuses to save over changes made after it was opened (mix in first).

    The view stamps the form with the row's values when it opens it, and before saving asks
    ``refused_as_stale`` with the row's values now: if any differ, nothing is saved, the page
    says what changed (``stale_fields``), and the stamp is renewed so that saving again, once
    the coordinator has looked, applies what they typed.
    """

    opened = HiddenField()
    # (label, value now): "" when it is empty now, None when it is not short text to show.
    stale_fields: tuple[tuple[str, str | None], ...] = ()

    def stamp(self, values: dict) -> None:
        self.opened.data = edit_stamp(values)

    def refused_as_stale(self, values: dict) -> bool:
        changed = changed_since(self.opened.data, values)
        if not changed:
            return False
        self.stale_fields = tuple(
            (
                self[name].label.text if name in self else name.replace("_", " ").capitalize(),
                None if name.endswith("_id") else _shown(values[name]),
            )
            for name in changed
        )
        self.stamp(values)
        return True

    def populate_obj(self, obj) -> None:
        for name, field in self._fields.items():
            if name != "opened":
                field.populate_obj(obj, name)


def _shown(value) -> str | None:
    """A value as the stale notice shows it: "" when empty, None when not short plain text."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ", ".join(value)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value)
        return text if len(text) <= 80 else None
    return None


class LocalTimeField(DateTimeField):
    """A wall-clock date and time typed as "2024-09-25 14:00": always the 24-hour clock.

    A datetime-local input would follow the browser's locale (9:00 PM in an American browser)
    while the programme, agenda and messages write 24-hour times. "2024-09-25T14:00" is taken too.
    """

    FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
    widget = TextInput()

    def __init__(self, label: str, validators=None, **kwargs):
        render_kw = {
            "placeholder": "2024-09-25 14:00",
            "pattern": r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}",
            "autocomplete": "off",
            "spellcheck": "false",
            **kwargs.pop("render_kw", {}),
        }
        super().__init__(
            label, validators, format=list(self.FORMATS), render_kw=render_kw, **kwargs
        )

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata([" ".join(v.split()) for v in valuelist])
        except ValueError:
            raise ValueError(
                _("Write the date and time as 2024-09-25 14:00 (24-hour clock).")
            ) from None


def offset_field(label: str) -> SelectField:
    """Which of the two occurrences of a repeated wall-clock time; shown only when needed."""
    return SelectField(label, choices=[], validate_choice=False, filters=[strip_or_none])


def resolve_local_time(field, offset, zone_name: str) -> datetime | None:
    """The UTC instant of a datetime-local field in the zone, or None with the field's error set.

    A repeated wall time (clocks fall back) fills ``offset.choices`` so the form can ask which.
    """
    if field.data is None:
        return None
    offered = repeated_wall_time_offsets(field.data, zone_name)
    offset.choices = [choice("", _("Choose which")), *map(_choice, offered)] if offered else []
    try:
        return local_to_utc(field.data, zone_name, offset.data if offered else None)
    except WallClockError as exc:
        if offered and not offset.data:
            field.errors.append(
                _(
                    "%(time)s happens twice in %(zone)s (clocks go back): choose which one below.",
                    time=f"{field.data:%Y-%m-%d %H:%M}",
                    zone=zone_name,
                )
            )
        else:
            field.errors.append(f"{exc}.")
        return None


def _choice(pair):
    return choice(*pair)


def fill_local_time(field, offset, instant: datetime | None, zone_name: str) -> None:
    """Show a stored instant in the form as wall-clock time in the zone."""
    if instant is None:
        return
    wall, wall_offset = utc_to_form(instant, zone_name)
    field.data = wall
    if wall_offset:
        offered = repeated_wall_time_offsets(wall, zone_name)
        offset.choices = [choice("", _("Choose which")), *map(_choice, offered)]
        offset.data = wall_offset
