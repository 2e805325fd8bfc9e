"""Forms of the people area: people and organisations."""

from __future__ import annotations

import re

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
    name = text_field("Name", required=True)
    native_name = text_field("Name in its own language")
    country = StringField(
        "Country",
        validators=[
            Optional(),
            Regexp(r"^[A-Z]{2}$", message="Two capital letters (ISO 3166), such as KR or JP."),
        ],
        filters=[strip_or_none, lambda v: v.upper() if isinstance(v, str) else v],
        description="Two-letter code, such as KR or JP.",
    )
    kind = text_field("Kind", description="Such as ministry, CRO or VC.")


class PersonForm(EditStamped, FlaskForm):
    key = key_field()
    name = text_field("Name (Latin letters)", required=True)
    native_name = text_field("Name in their own script")
    title = text_field("Title")
    organization_id = SelectField("Organisation", coerce=int, choices=[])
    role = SelectField(
        "Role in the visit",
        choices=choices((r, r.capitalize()) for r in PERSON_ROLES),
        default="delegation",
    )
    languages = LanguagesField(
        "Languages",
        description="Language codes separated by commas, such as ko, en, ja.",
    )
    available_from = LocalTimeField("Available from", validators=[Optional()])
    available_from_offset = offset_field("Which 'available from'")
    available_until = LocalTimeField("Available until", validators=[Optional()])
    available_until_offset = offset_field("Which 'available until'")
    email = EmailField(
        "Email",
        validators=[Optional(), Email("Not an email address."), Length(max=254)],
        filters=[strip_or_none],
    )
    phone = text_field("Phone", max_length=50)
    notes = long_text_field("Notes")

    def validate_languages(self, field) -> None:
        bad = [tag for tag in field.data or [] if not LANGUAGE_TAG.match(tag)]
        if bad:
            raise ValidationError(
                f"Not a language code: {', '.join(bad)}. Use codes such as ko, en or zh-Hant."
            )
