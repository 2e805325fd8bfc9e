"""The meeting form: local times in the meeting's zone, place, attendees, conflict decision."""

from __future__ import annotations

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

NOT_ATTENDING = ""


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(FlaskForm):
    key = key_field("Key", required=False)
    title = text_field("Title", required=True)
    native_title = text_field("Title in the delegation's language")
    kind = SelectField("Kind", choices=choices((k, k.capitalize()) for k in MEETING_KINDS))
    status = SelectField("Status", choices=choices((s, s.capitalize()) for s in MEETING_STATUSES))
    start = LocalTimeField("Starts", validators=[InputRequired("When does it start?")])
    start_offset = offset_field("Which start time")
    end = LocalTimeField("Ends", validators=[InputRequired("When does it end?")])
    end_offset = offset_field("Which end time")
    venue_id = SelectField("Venue", coerce=int, choices=[])
    room_id = SelectField("Room", coerce=int, choices=[])
    online_url = URLField(
        "Online meeting link",
        validators=[
            Optional(),
            Length(max=2000),
            Regexp(r"^https?://\S+$", message="A web address starting with https://"),
        ],
        filters=[strip_or_none],
    )
    organizations = CheckboxList("Organisations", coerce=int, choices=[])
    agenda = long_text_field("Agenda")
    internal_notes = long_text_field(
        "Internal notes",
        description="Seen by coordinators only: never shared or exported to calendars.",
    )
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    # What the form showed when opened (edit_stamp), to say what changed if it turns out stale.
    opened = HiddenField()
    confirm_conflicts = BooleanField("Save despite these errors")
    override_reason = TextAreaField(
        "Reason for saving anyway",
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
        [(NOT_ATTENDING, "Not attending")] + [(r, r.capitalize()) for r in ATTENDEE_ROLES]
    )
    for person in people:
        label = person.display_name + (f", {person.title}" if person.title else "")
        setattr(
            Form,
            f"attendee_{person.id}",
            SelectField(label, choices=roles, default=NOT_ATTENDING),
        )
    return Form
