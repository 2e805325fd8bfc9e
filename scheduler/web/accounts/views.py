"""Accounts: your own (password, language), the admins' list, and the one-time password link."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import DelegationRole, User
from scheduler.operations import accounts
from scheduler.web.accounts import bp
from scheduler.web.accounts.forms import (
    LanguageForm,
    NewAccountForm,
    PasswordChangeForm,
    SetPasswordForm,
)
from scheduler.web.common import needs_account, needs_admin

# --------------------------------------------------------------------------- your own account


def _own_account_page(password_form=None, language_form=None, status: int = 200):
    if language_form is None:
        language_form = LanguageForm(formdata=None, language=current_user.language or "")
    if password_form is None:
        password_form = PasswordChangeForm(formdata=None)
    page = render_template(
        "accounts/own.html",
        password_form=password_form,
        language_form=language_form,
    )
    return page, status


@bp.get("/account")
@login_required
@needs_account
def own():
    return _own_account_page()


@bp.post("/account/password")
@login_required
@needs_account
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("That is not your current password."))
        else:
            accounts.change_password(current_user, form.new_password.data)
            db.session.commit()
            # This session carries the new generation; every other one is signed out.
            login_user(current_user._get_current_object())
            flash(_("Password changed. Your other sessions are signed out."), "info")
            return redirect(url_for("accounts.own"))
    return _own_account_page(password_form=form, status=400)


@bp.post("/account/language")
@login_required
@needs_account
def change_language():
    form = LanguageForm()
    if form.validate_on_submit():
        accounts.set_language(current_user, form.language.data or None)
        db.session.commit()
        flash(_("Language saved."), "info")
        return redirect(url_for("accounts.own"))
    return _own_account_page(language_form=form, status=400)


# --------------------------------------------------------------------------- admins' accounts page


def _password_link(user: User) -> str:
    """Absolute, on PUBLIC_BASE_URL when set (as share links are), else this request's host."""
    token = accounts.password_link_token(user, current_app.config["SECRET_KEY"])
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return base.rstrip("/") + url_for("accounts.set_password", token=token)


def _accounts_page(form=None, *, new_link=None, linked=None, status: int = 200):
    roles = dict(
        db.session.execute(
            select(DelegationRole.user_id, func.count()).group_by(DelegationRole.user_id)
        ).all()
    )
    everyone = db.session.scalars(select(User).order_by(User.email)).all()
    page = render_template(
        "accounts/index.html",
        accounts=everyone,
        roles=roles,
        form=form if form is not None else NewAccountForm(),
        new_link=new_link,
        linked=linked,
        max_age_days=current_app.config["PASSWORD_LINK_MAX_AGE"] // 86400,
    )
    return page, status


@bp.get("/accounts")
@login_required
@needs_admin
def index():
    return _accounts_page()


@bp.post("/accounts")
@login_required
@needs_admin
def create():
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_account(db.session, form.email.data, is_admin=form.is_admin.data)
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc).partition(": ")[2])
        else:
            db.session.commit()
            # Shown this once, on this page: the admin hands it over.
            return _accounts_page(new_link=_password_link(user), linked=user)
    return _accounts_page(form, status=400)


def _account_or_404(account_id: int) -> User:
    user = db.session.get(User, account_id)
    if user is None:
        abort(404)
    return user


@bp.post("/accounts/<int:account_id>/link")
@login_required
@needs_admin
def new_link(account_id: int):
    """A new one-time link for an account (say, its owner forgot the password)."""
    user = _account_or_404(account_id)
    return _accounts_page(new_link=_password_link(user), linked=user)


def _toggle(account_id: int, change, done: str):
    user = _account_or_404(account_id)
    try:
        change(user)
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc).partition(": ")[2], "error")
        return _accounts_page(status=409)
    db.session.commit()
    flash(done.format(email=user.email), "info")
    return redirect(url_for("accounts.index"))


@bp.post("/accounts/<int:account_id>/deactivate")
@login_required
@needs_admin
def deactivate(account_id: int):
    return _toggle(
        account_id,
        lambda u: accounts.set_active(u, False, actor=current_user),
        _("%(email)s is deactivated and signed out.", email="{email}"),
    )


@bp.post("/accounts/<int:account_id>/activate")
@login_required
@needs_admin
def activate(account_id: int):
    return _toggle(
        account_id,
        lambda u: accounts.set_active(u, True, actor=current_user),
        _("%(email)s may sign in again.", email="{email}"),
    )


@bp.post("/accounts/<int:account_id>/admin")
@login_required
@needs_admin
def make_admin(account_id: int):
    return _toggle(
        account_id,
        lambda u: accounts.set_admin(u, True, actor=current_user),
        _("%(email)s is an administrator.", email="{email}"),
    )


@bp.post("/accounts/<int:account_id>/not-admin")
@login_required
@needs_admin
def remove_admin(account_id: int):
    return _toggle(
        account_id,
        lambda u: accounts.set_admin(u, False, actor=current_user),
        _("%(email)s is no longer an administrator.", email="{email}"),
    )


# --------------------------------------------------------------------------- the one-time link


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Public: the link is the credential. Used once (it is bound to the old password)."""
    user = accounts.account_for_password_token(
        db.session,
        token,
        current_app.config["SECRET_KEY"],
        max_age=current_app.config["PASSWORD_LINK_MAX_AGE"],
    )
    if user is None:
        abort(
            404,
            description=_(
                "This link has expired or was used already. Ask an administrator for a new one."
            ),
        )
    form = SetPasswordForm()
    if form.validate_on_submit():
        accounts.change_password(user, form.new_password.data)
        db.session.commit()
        flash(_("Password set: sign in with it."), "info")
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/set_password.html", form=form, email=user.email), status
