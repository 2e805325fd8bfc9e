"""The meeting form: local times in the meeting's zone, place, attendees, conflict decision."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
    URLField,
)
from wtforms.validators import InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from scheduler.models import ATTENDEE_ROLES, MEETING_KINDS, MEETING_STATUSES
from scheduler.web.fields import (
    LocalTimeField,
    choices,
    key_field,
    long_text_field,
    offset_field,
    strip_or_none,
    text_field,
)
from scheduler.wording import attendee_role_label, kind_label, status_label

NOT_ATTENDING = ""


def _capitalised(label, code: str) -> LazyString:
    """A choice's label in the reader's language, made when the form is shown."""
    return LazyString(lambda: label(code).capitalize())


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(FlaskForm):
    key = key_field(_l("Key"), required=False)
    title = text_field(_l("Title"), required=True)
    native_title = text_field(_l("Title in the delegation's language"))
    kind = SelectField(
        _l("Kind"), choices=choices((k, _capitalised(kind_label, k)) for k in MEETING_KINDS)
    )
    status = SelectField(
        _l("Status"), choices=choices((s, _capitalised(status_label, s)) for s in MEETING_STATUSES)
    )
    start = LocalTimeField(_l("Starts"), validators=[InputRequired(_l("When does it start?"))])
    start_offset = offset_field(_l("Which start time"))
    end = LocalTimeField(_l("Ends"), validators=[InputRequired(_l("When does it end?"))])
    end_offset = offset_field(_l("Which end time"))
    venue_id = SelectField(_l("Venue"), coerce=int, choices=[])
    room_id = SelectField(_l("Room"), coerce=int, choices=[])
    online_url = URLField(
        _l("Online meeting link"),
        validators=[
            Optional(),
            Length(max=2000),
            Regexp(r"^https?://\S+$", message=_l("A web address starting with https://")),
        ],
        filters=[strip_or_none],
    )
    organizations = CheckboxList(_l("Organisations"), coerce=int, choices=[])
    agenda = long_text_field(_l("Agenda"))
    internal_notes = long_text_field(
        _l("Internal notes"),
        description=_l("Seen by coordinators only: never shared or exported to calendars."),
    )
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    # What the form showed when opened (edit_stamp), to say what changed if it turns out stale.
    opened = HiddenField()
    confirm_conflicts = BooleanField(_l("Save despite these errors"))
    override_reason = TextAreaField(
        _l("Reason for saving anyway"),
        validators=[Optional(), Length(max=2000)],
        filters=[strip_or_none],
    )
    confirmed_errors = HiddenField()

    def attendee_fields(self):
        return [field for name, field in self._fields.items() if name.startswith("attendee_")]


def meeting_form_class(people):
    """The meeting form with one role select per person of the delegation, in the given order."""

    class Form(MeetingForm):
        pass

    roles = choices(
        [(NOT_ATTENDING, _("Not attending"))]
        + [(r, attendee_role_label(r).capitalize()) for r in ATTENDEE_ROLES]
    )
    for person in people:
        label = person.display_name + (f", {person.title}" if person.title else "")
        setattr(
            Form,
            f"attendee_{person.id}",
            SelectField(label, choices=roles, default=NOT_ATTENDING),
        )
    return Form
