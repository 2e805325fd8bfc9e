from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from scheduler.extensions import db, limiter, login_manager
from scheduler.models import User
from scheduler.operations import tokens as token_operations
from scheduler.web.auth import bp
from scheduler.web.auth.forms import LoginForm, RevokeTokenForm, TokenForm
from scheduler.web.common import needs_account

login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The account of a session, unless its password changed since (a new generation)."""
    account, _, generation = session_id.partition(":")
    if not (account.isdigit() and generation.isdigit()):
        return None
    user = db.session.get(User, int(account))
    if user is None or user.session_generation != int(generation) or not user.is_active:
        return None
    return user


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.before_app_request
def _history_names_the_account() -> None:
    """Changes made in this request are the signed-in account's (read only if something changes)."""
    db.session.info["actor"] = _current_account_id


def _current_account_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _signed_in_email() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


def _failed_sign_in(response) -> bool:
    """Only a refused attempt counts against the limits; a sign-in redirects."""
    return request.method == "POST" and response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
    key_func=_signed_in_email,
    methods=["POST"],
    deduct_when=_failed_sign_in,
    scope="sign-in-account",
    error_message="Too many failed sign-ins for this account: wait a minute and try again.",
)
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed_sign_in,
    scope="sign-in-address",
    error_message="Too many failed sign-ins from this address: wait a minute and try again.",
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("delegations.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.check_password(form.password.data) and user.is_active:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("delegations.index"))
        flash(_("That email and password do not match an account."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("Signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def home():
    return redirect(url_for("delegations.index"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
@needs_account
def tokens():
    """The account's API tokens: make one (its secret shown on this page, this once), revoke."""
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            _, secret = token_operations.create_token(
                db.session, current_user, form.name.data, read_only=form.read_only.data
            )
        except ValueError as exc:
            form.name.errors.append(str(exc).partition(": ")[2])
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    return render_template(
        "auth/tokens.html",
        form=form,
        secret=secret,
        tokens=token_operations.tokens_of(db.session, current_user),
        revoke_form=RevokeTokenForm(),
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
@needs_account
def revoke_token(token_id: int):
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    if not token_operations.revoke_token(db.session, current_user, token_id):
        flash(gettext("You have no such token, or it was revoked already."), "error")
    else:
        db.session.commit()
        flash(gettext("Token revoked: requests with it are refused from now on."), "info")
    return redirect(url_for("auth.tokens"))
