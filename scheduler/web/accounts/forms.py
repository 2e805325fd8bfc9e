"""Forms of the accounts area: your own account, the admins' accounts page, setting a password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from scheduler.operations.accounts import MIN_PASSWORD_LENGTH
from scheduler.web.fields import choices

LANGUAGE_CHOICES = choices(
    [
        ("", _l("As my browser asks")),
        ("en", "English"),
        ("ko", "한국어"),
        ("ja", "日本語"),
    ]
)


def _new_password_fields():
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    )
    again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two do not match."))],
    )
    return new, again


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password, new_password_again = _new_password_fields()


class SetPasswordForm(FlaskForm):
    new_password, new_password_again = _new_password_fields()


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language of my pages"), choices=LANGUAGE_CHOICES)


class NewAccountForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    is_admin = BooleanField(_l("Administrator (sees and manages everything)"))
