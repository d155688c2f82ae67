"""Forms of the campaign pages: the campaign (target criteria, content, call to action), scheduling,
and the poster generator."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.domain.campaigns import HOLDOUT_MAX


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# The criteria, by name as stored in Campaign.criteria (domain/targeting.py).
CRITERIA_FIELDS = (
    "segments",
    "segment_shop_id",
    "shop_id",
    "shop_visited",
    "shop_since",
    "shop_until",
    "last_visit_after",
    "last_visit_before",
    "postcodes",
    "kind",
    "contest_id",
    "saved_target_id",
)


class CampaignForm(FlaskForm):
    name = StringField(_l("Nom de la campagne (interne)"), validators=[DataRequired(), Length(max=120)])
    channel = SelectField(
        _l("Canal"),
        choices=[SelectChoice("email", _l("E-mail")), SelectChoice("letter", _l("Courrier imprimé"))],
        default="email",
    )

    segments = CheckboxesField(_l("Segments RFM"), validate_choice=False)
    segment_shop_id = SelectField(_l("Segments de"), validate_choice=False)
    shop_id = SelectField(_l("Passages dans la boutique"), validate_choice=False)
    shop_visited = SelectField(
        _l("Condition"),
        choices=[SelectChoice("1", _l("y est venu")), SelectChoice("0", _l("n'y est jamais venu"))],
        validate_choice=False,
    )
    shop_since = DateField(_l("Du"), validators=[Optional()])
    shop_until = DateField(_l("Au"), validators=[Optional()])
    last_visit_after = DateField(_l("Dernier passage le ou après le"), validators=[Optional()])
    last_visit_before = DateField(_l("Dernier passage le ou avant le"), validators=[Optional()])
    postcodes = StringField(_l("Codes postaux (séparés par des espaces)"), validators=[Optional(), Length(max=400)])
    kind = SelectField(
        _l("Qui"),
        choices=[
            SelectChoice("everyone", _l("Tout le monde")),
            SelectChoice("cardholders", _l("Porteurs de carte")),
            SelectChoice("prospects", _l("Prospects (sans carte)")),
        ],
    )
    contest_id = SelectField(_l("Participants au jeu"), validate_choice=False)
    saved_target_id = SelectField(_l("Liste enregistrée"), validate_choice=False)

    subject = StringField(_l("Objet"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Message (Markdown)"), validators=[DataRequired(), Length(max=20000)])
    cta_kind = SelectField(
        _l("Appel à l'action"),
        choices=[
            SelectChoice("none", _l("Aucun")),
            SelectChoice("link", _l("Un lien")),
            SelectChoice("offer", _l("Un code d'offre valable dans les boutiques")),
            SelectChoice("contest", _l("Un jeu-concours")),
        ],
    )
    cta_label = StringField(_l("Texte du bouton ou de l'offre"), validators=[Optional(), Length(max=80)])
    cta_url = StringField(_l("Adresse du lien (https://…)"), validators=[Optional(), Length(max=500)])
    offer_code = StringField(_l("Code d'offre"), validators=[Optional(), Length(max=40)])
    cta_contest_id = SelectField(_l("Jeu-concours"), validate_choice=False)
    holdout_percent = IntegerField(
        _l("Groupe témoin, en pourcentage de la cible (ne reçoit rien)"),
        default=10,
        validators=[InputRequired(), NumberRange(min=0, max=HOLDOUT_MAX)],
    )
    report_days = IntegerField(
        _l("Durée de mesure de l'effet (jours)"), default=30, validators=[InputRequired(), NumberRange(min=1, max=365)]
    )

    def criteria_data(self) -> dict:
        data = {name: getattr(self, name).data for name in CRITERIA_FIELDS}
        return {name: value for name, value in data.items() if value not in (None, "", [])}


class ScheduleForm(FlaskForm):
    at = DateTimeLocalField(_l("Date et heure d'envoi"), validators=[DataRequired()])


class PosterForm(FlaskForm):
    size = SelectField(_l("Format"), choices=[SelectChoice("A4", "A4"), SelectChoice("A3", "A3")])
    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=80)])
    text = TextAreaField(_l("Texte"), validators=[Optional(), Length(max=400)])
    call_to_action = StringField(_l("Appel à l'action sous le QR code"), validators=[DataRequired(), Length(max=80)])
    destination = SelectField(_l("Le QR code mène à"), validate_choice=False)
