"""Sign-in, sign-up, sign-out, email confirmation and password reset."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth import bp
from webapp.auth.forms import (
    ChangePasswordForm,
    EmailOnlyForm,
    LoginForm,
    NewPasswordForm,
    SignupForm,
)
from webapp.domain import accounts, passwords, tokens
from webapp.domain.errors import DomainError, InvalidToken
from webapp.extensions import db, limiter
from webapp.mail import send_mail
from webapp.messages import message_for
from webapp.models import Account
from webapp.security import home_for, safe_next_url
from webapp.web import now

FIELD_OF_ERROR = {
    "invalid_email": "email",
    "email_taken": "email",
    "weak_password": "password",
    "invalid_phone": "phone",
    "invalid_postcode": "postcode",
}


def _login_key() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def send_confirmation(account: Account) -> None:
    token = tokens.make_confirm_token(current_app.config["SECRET_KEY"], account.id, account.email)
    link = current_app.config["BASE_URL"] + url_for("auth.confirm", token=token)
    send_mail(account.email, _("Confirmez votre adresse e-mail"), "confirm", first_name=account.display_name, link=link)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("20 per hour", key_func=_login_key, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        account = accounts.authenticate(db.session, form.email.data, form.password.data, now())
        if account is None:
            form.password.errors.append(_("Adresse e-mail ou mot de passe incorrect."))
        else:
            db.session.commit()
            login_user(account)
            return redirect(safe_next_url(request.args.get("next")) or home_for(account))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    accounts.end_all_sessions(db.session, current_user)
    db.session.commit()
    logout_user()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("shopper.home"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignupForm()
    if form.validate_on_submit():
        data = accounts.SignUp(
            email=form.email.data,
            password=form.password.data,
            first_name=form.first_name.data,
            postcode=form.postcode.data,
            phone=form.phone.data or "",
            consents={"email": form.consent_email.data, "sms": form.consent_sms.data, "post": form.consent_post.data},
            consent_wordings={
                "email": str(form.consent_email.label.text),
                "sms": str(form.consent_sms.label.text),
                "post": str(form.consent_post.label.text),
            },
        )
        try:
            account = accounts.register_shopper(db.session, data, now())
        except DomainError as error:
            db.session.rollback()
            getattr(form, FIELD_OF_ERROR.get(error.code, "email")).errors.append(message_for(error))
        else:
            db.session.commit()
            login_user(account)
            send_confirmation(account)
            flash(_("Bienvenue ! Votre carte est prête. Un e-mail de confirmation vous a été envoyé."), "success")
            return redirect(url_for("shopper.card"))
    return render_template("auth/signup.html", form=form), 200 if not form.errors else 422


@bp.get("/confirm/<token>")
def confirm(token: str):
    try:
        account_id, email = tokens.read_confirm_token(current_app.config["SECRET_KEY"], token)
    except InvalidToken as error:
        return render_template("auth/message.html", title=_("Lien invalide"), message=message_for(error)), 400
    account = db.session.get(Account, account_id)
    if account is None or not accounts.confirm_email(db.session, account, email, now()):
        return render_template(
            "auth/message.html", title=_("Lien invalide"), message=_("Ce lien n'est pas valide ou a expiré.")
        ), 400
    db.session.commit()
    flash(_("Merci, votre adresse e-mail est confirmée."), "success")
    return redirect(home_for(current_user) if current_user.is_authenticated else url_for("auth.login"))


@bp.post("/confirm/resend")
@login_required
@limiter.limit("5 per hour")
def resend_confirmation():
    if current_user.email_confirmed_at is None:
        send_confirmation(current_user)
    flash(_("Un nouvel e-mail de confirmation vous a été envoyé."), "info")
    return redirect(url_for("shopper.account"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"])
def reset_request():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        account = accounts.account_by_email(db.session, form.email.data.strip())
        if account is not None and account.active:
            token = tokens.make_reset_token(current_app.config["SECRET_KEY"], account.id, account.password_hash)
            link = current_app.config["BASE_URL"] + url_for("auth.reset_password", token=token)
            send_mail(
                account.email,
                _("Choisissez un nouveau mot de passe"),
                "reset",
                first_name=account.display_name,
                link=link,
            )
        # Same answer whether or not the address is known.
        flash(_("Si un compte existe pour cette adresse, un lien de réinitialisation vient d'y être envoyé."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def reset_password(token: str):
    invalid = (
        render_template(
            "auth/message.html", title=_("Lien invalide"), message=_("Ce lien n'est pas valide ou a expiré.")
        ),
        400,
    )
    try:
        account_id, fingerprint = tokens.read_reset_token(current_app.config["SECRET_KEY"], token)
    except InvalidToken:
        return invalid
    account = db.session.get(Account, account_id)
    if account is None or not tokens.reset_token_matches(fingerprint, account.password_hash):
        return invalid
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(db.session, account, form.password.data)
        except DomainError as error:
            db.session.rollback()
            form.password.errors.append(message_for(error))
        else:
            db.session.commit()
            logout_user()
            flash(_("Votre mot de passe a été changé. Connectez-vous."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not passwords.verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("Mot de passe actuel incorrect."))
        else:
            try:
                accounts.set_password(db.session, current_user, form.password.data)
            except DomainError as error:
                db.session.rollback()
                form.password.errors.append(message_for(error))
            else:
                db.session.commit()
                login_user(current_user._get_current_object())  # this session goes on; all others end
                flash(_("Mot de passe changé. Vos autres sessions ont été fermées."), "success")
                return redirect(home_for(current_user))
    return render_template("auth/change_password.html", form=form)
