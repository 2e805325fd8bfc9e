"""Forms of the team area: the access list of a delegation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.validators import DataRequired, Email, Length

from scheduler.web.fields import choices

ROLE_CHOICES = choices(
    [
        ("owner", _l("owner: everything, including this list and share links")),
        ("editor", _l("editor: the programme, every form and import")),
        ("viewer", _l("viewer: every page, read-only")),
        ("host", _l("host: read-only, only one organisation's meetings")),
    ]
)


def _by_name(organization) -> str:
    return organization.name.lower()


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=ROLE_CHOICES, default="viewer", validators=[DataRequired()]
    )
    organization = SelectField(
        _l("Organisation (for a host)"),
        choices=[],
        validate_choice=False,
        description=_l("A host sees only the meetings linked to this organisation."),
    )

    def with_organizations(self, organizations) -> RoleForm:
        self.organization.choices = choices(
            [("", "—")] + [(o.key, o.name) for o in sorted(organizations, key=_by_name)]
        )
        return self

    def validate_organization(self, field) -> None:
        from wtforms.validators import ValidationError

        if field.data and field.data not in {c.value for c in field.iter_choices()}:
            raise ValidationError(_l("Not one of this delegation's organisations."))
        if self.role.data == "host" and not field.data:
            raise ValidationError(_l("Choose the host's organisation."))


class AddMemberForm(RoleForm):
    email = EmailField(
        _l("Email of the account"), validators=[DataRequired(), Email(), Length(max=254)]
    )
