from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length


class CardNumberForm(FlaskForm):
    class Meta:
        csrf = False  # a read-only GET lookup

    number = StringField(
        _l("Numéro de carte (12 chiffres)"),
        validators=[DataRequired(), Length(max=30)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


class CreditForm(FlaskForm):
    card = HiddenField(validators=[DataRequired()])
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    amount = StringField(
        _l("Montant de l'achat (€)"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": _l("0,00"), "autofocus": True},
    )
