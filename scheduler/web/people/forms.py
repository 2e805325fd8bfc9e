"""Forms of the people area: people and organisations."""

from __future__ import annotations

import re

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import Email, Length, Optional, Regexp, ValidationError

from scheduler.models import PERSON_ROLES
from scheduler.web.fields import (
    EditStamped,
    LocalTimeField,
    choices,
    key_field,
    long_text_field,
    offset_field,
    strip_or_none,
    text_field,
)
from scheduler.wording import person_role_label

LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def split_languages(value):
    """'ko, en ja' -> ['ko', 'en', 'ja']: commas or spaces, duplicates dropped."""
    if isinstance(value, list):
        return value
    seen = []
    for tag in re.split(r"[\s,;]+", value or ""):
        if tag and tag not in seen:
            seen.append(tag)
    return seen


class LanguagesField(StringField):
    """Language tags typed as one line, kept as a list."""

    def _value(self):
        return ", ".join(self.data or [])

    def process_formdata(self, valuelist):
        self.data = split_languages(valuelist[0] if valuelist else "")


class OrganizationForm(EditStamped, FlaskForm):
    key = key_field()
    name = text_field(_l("Name"), required=True)
    native_name = text_field(_l("Name in its own language"))
    country = StringField(
        _l("Country"),
        validators=[
            Optional(),
            Regexp(r"^[A-Z]{2}$", message=_l("Two capital letters (ISO 3166), such as KR or JP.")),
        ],
        filters=[strip_or_none, lambda v: v.upper() if isinstance(v, str) else v],
        description=_l("Two-letter code, such as KR or JP."),
    )
    kind = text_field(_l("Kind"), description=_l("Such as ministry, CRO or VC."))


class PersonForm(EditStamped, FlaskForm):
    key = key_field()
    name = text_field(_l("Name (Latin letters)"), required=True)
    native_name = text_field(_l("Name in their own script"))
    title = text_field(_l("Title"))
    organization_id = SelectField(_l("Organisation"), coerce=int, choices=[])
    role = SelectField(
        _l("Role in the visit"),
        choices=choices(
            (r, LazyString(lambda r=r: person_role_label(r).capitalize())) for r in PERSON_ROLES
        ),
        default="delegation",
    )
    languages = LanguagesField(
        _l("Languages"),
        description=_l("Language codes separated by commas, such as ko, en, ja."),
    )
    available_from = LocalTimeField(_l("Available from"), validators=[Optional()])
    available_from_offset = offset_field(_l("Which 'available from'"))
    available_until = LocalTimeField(_l("Available until"), validators=[Optional()])
    available_until_offset = offset_field(_l("Which 'available until'"))
    email = EmailField(
        _l("Email"),
        validators=[Optional(), Email(_l("Not an email address.")), Length(max=254)],
        filters=[strip_or_none],
    )
    phone = text_field(_l("Phone"), max_length=50)
    notes = long_text_field(_l("Notes"))

    def validate_languages(self, field) -> None:
        bad = [tag for tag in field.data or [] if not LANGUAGE_TAG.match(tag)]
        if bad:
            raise ValidationError(
                _(
                    "Not a language code: %(codes)s. Use codes such as ko, en or zh-Hant.",
                    codes=", ".join(bad),
                )
            )
