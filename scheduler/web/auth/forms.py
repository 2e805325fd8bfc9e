from flask_babel import lazy_gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in on this device"))


class TokenForm(FlaskForm):
    name = StringField(
        lazy_gettext("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=lazy_gettext("What uses it, say 'CRM sync'"),
    )
    read_only = BooleanField(lazy_gettext("Read-only: may read, never change anything"))


class RevokeTokenForm(FlaskForm):
    pass
