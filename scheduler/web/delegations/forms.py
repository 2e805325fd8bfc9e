"""Forms of the delegations area."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from scheduler.web.fields import (
    EditStamped,
    key_field,
    long_text_field,
    strip_or_none,
    text_field,
    valid_zone,
)


class DelegationForm(EditStamped, FlaskForm):
    key = key_field()
    name = text_field(_l("Name"), required=True)
    native_name = text_field(_l("Name in the delegation's language"))
    host = text_field(_l("Host"))
    timezone = StringField(
        _l("Time zone"),
        validators=[DataRequired(), Length(max=64), valid_zone],
        filters=[strip_or_none],
        description=_l("IANA name, such as Asia/Tokyo: meetings without a venue use it."),
    )
    start_date = DateField(_l("First day"), validators=[InputRequired()])
    end_date = DateField(_l("Last day"), validators=[InputRequired()])
    description = long_text_field(_l("Description"))

    def validate_end_date(self, field) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_("The last day cannot be before the first day."))


class ImportForm(FlaskForm):
    document = FileField(
        _l("Itinerary document (JSON) or programme spreadsheet (.xlsx)"),
        validators=[
            FileRequired(_l("Choose a delegation-itinerary/1 JSON file or the programme .xlsx."))
        ],
    )
    prune = BooleanField(_l("Cancel meetings that the document no longer lists"))


class AcknowledgeForm(FlaskForm):
    conflict = HiddenField(validators=[DataRequired()])
    next = HiddenField()
    reason = TextAreaField(
        _l("Why this warning is acceptable"),
        validators=[DataRequired(_l("Say why the warning is acceptable.")), Length(max=2000)],
        filters=[strip_or_none],
    )
