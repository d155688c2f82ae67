from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional

EMAIL_WORDING = _l(
    "Je souhaite recevoir par e-mail les offres et actualités de l'union commerciale et de ses boutiques."
)
SMS_WORDING = _l("Je souhaite recevoir ces offres par SMS.")
POST_WORDING = _l("Je souhaite recevoir ces offres par courrier postal.")


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Mot de passe"), validators=[DataRequired(), Length(max=256)], render_kw={"autocomplete": "current-password"}
    )


class SignupForm(FlaskForm):
    first_name = StringField(
        _l("Prénom"), validators=[DataRequired(), Length(max=80)], render_kw={"autocomplete": "given-name"}
    )
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(), Email(message=_l("Adresse e-mail invalide.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Mot de passe (12 caractères au moins)"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password", "minlength": 12},
    )
    postcode = StringField(
        _l("Code postal"),
        validators=[DataRequired(), Length(max=10)],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    phone = TelField(
        _l("Téléphone (facultatif)"), validators=[Optional(), Length(max=30)], render_kw={"autocomplete": "tel"}
    )
    consent_email = BooleanField(EMAIL_WORDING)
    consent_sms = BooleanField(SMS_WORDING)
    consent_post = BooleanField(POST_WORDING)
    accept_rules = BooleanField(
        _l("J'accepte le règlement du programme de fidélité."),
        validators=[InputRequired(message=_l("Vous devez accepter le règlement pour obtenir la carte."))],
    )


class EmailOnlyForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "email"}
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nouveau mot de passe (12 caractères au moins)"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[EqualTo("password", message=_l("Les deux mots de passe diffèrent."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Mot de passe actuel"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""
