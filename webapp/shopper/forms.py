from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional

from webapp.auth.forms import EMAIL_WORDING, POST_WORDING, SMS_WORDING


class DetailsForm(FlaskForm):
    first_name = StringField(
        _l("Prénom"), validators=[DataRequired(), Length(max=80)], render_kw={"autocomplete": "given-name"}
    )
    last_name = StringField(
        _l("Nom (facultatif)"), validators=[Optional(), Length(max=80)], render_kw={"autocomplete": "family-name"}
    )
    postcode = StringField(
        _l("Code postal"),
        validators=[DataRequired(), Length(max=10)],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    phone = TelField(
        _l("Téléphone (facultatif)"), validators=[Optional(), Length(max=30)], render_kw={"autocomplete": "tel"}
    )
    street = StringField(
        _l("Adresse postale (facultatif, pour nos courriers)"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "street-address"},
    )
    town = StringField(
        _l("Ville (facultatif)"), validators=[Optional(), Length(max=80)], render_kw={"autocomplete": "address-level2"}
    )


class ConsentForm(FlaskForm):
    email = BooleanField(EMAIL_WORDING)
    sms = BooleanField(SMS_WORDING)
    post = BooleanField(POST_WORDING)


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Votre mot de passe, pour confirmer"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        _l("Je comprends que ma carte et mes points seront définitivement supprimés."),
        validators=[DataRequired(message=_l("Cochez la case pour confirmer."))],
    )
