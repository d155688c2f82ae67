"""Forms of the contests: entering (cardholder or visitor), the organiser's contest editor, moderation."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from webapp.auth.forms import EMAIL_WORDING, POST_WORDING, SMS_WORDING

IMAGE_TYPES = FileAllowed(["png", "jpg", "jpeg"], _l("Seules les images PNG et JPEG sont acceptées."))
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
PRIZE_ROWS = 3
MAX_PRIZE_ROWS = 20

PUBLIC_NAME_WORDING = _l(
    "J'accepte, si je gagne, que mon prénom, l'initiale de mon nom et ma ville figurent dans la liste "
    "publique des gagnants (facultatif)."
)


class EntryForm(FlaskForm):
    """What every entrant may give: the answer, text or photo, and the optional public-name consent.

    Fields that the contest's entry type does not use are removed by `prepare_entry_form`.
    """

    rules_version = HiddenField()
    answer = StringField(
        _l("Votre réponse"),
        validators=[DataRequired(message=_l("Indiquez votre réponse.")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    text = TextAreaField(
        _l("Votre texte"),
        validators=[DataRequired(message=_l("Écrivez votre texte.")), Length(max=2000)],
        render_kw={"rows": 5},
    )
    photo = FileField(
        _l("Votre photo (PNG ou JPEG, 2 Mo au plus)"),
        validators=[IMAGE_TYPES],
        render_kw={"accept": "image/png,image/jpeg"},
    )
    public_name = BooleanField(PUBLIC_NAME_WORDING)


class VisitorEntryForm(EntryForm):
    """A visitor without an account: identity, age, the rules, and separate optional marketing consents."""

    first_name = StringField(
        _l("Prénom"),
        validators=[DataRequired(message=_l("Indiquez votre prénom.")), Length(max=80)],
        render_kw={"autocomplete": "given-name"},
    )
    last_name = StringField(
        _l("Nom"),
        validators=[DataRequired(message=_l("Indiquez votre nom.")), Length(max=80)],
        render_kw={"autocomplete": "family-name"},
    )
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            DataRequired(message=_l("Indiquez votre adresse e-mail.")),
            Email(message=_l("Adresse e-mail invalide.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )
    postcode = StringField(
        _l("Code postal"),
        validators=[DataRequired(message=_l("Indiquez votre code postal.")), Length(max=10)],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    town = StringField(
        _l("Ville (facultatif)"), validators=[Optional(), Length(max=80)], render_kw={"autocomplete": "address-level2"}
    )
    phone = TelField(
        _l("Téléphone (facultatif)"), validators=[Optional(), Length(max=30)], render_kw={"autocomplete": "tel"}
    )
    age_confirmed = BooleanField(
        _l("Je confirme avoir l'âge minimum requis."),
        validators=[InputRequired(message=_l("Ce jeu est réservé aux personnes ayant l'âge minimum indiqué."))],
    )
    consent_email = BooleanField(EMAIL_WORDING)
    consent_sms = BooleanField(SMS_WORDING)
    consent_post = BooleanField(POST_WORDING)
    rules_accepted = BooleanField(
        _l("J'ai lu et j'accepte le règlement du jeu."),
        validators=[InputRequired(message=_l("Vous devez accepter le règlement pour participer."))],
    )


ENTRY_TYPE_FIELDS = {"draw": (), "question": ("answer",), "text": ("text",), "photo": ("photo",)}


def prepare_entry_form(form: EntryForm, contest) -> EntryForm:
    """Keep only the field the contest's entry type uses; the age box only when an age is required."""
    wanted = ENTRY_TYPE_FIELDS.get(contest.entry_type, ())
    for name in ("answer", "text", "photo"):
        if name not in wanted:
            del form[name]
    if "photo" in wanted:
        form.photo.validators = [FileRequired(_l("Choisissez une photo.")), *form.photo.validators]
    if isinstance(form, VisitorEntryForm):
        if contest.minimum_age:
            form.age_confirmed.label.text = _l("Je confirme avoir au moins %(age)d ans.", age=contest.minimum_age)
        else:
            del form["age_confirmed"]
    return form


# The organiser's editor.


class PrizeRow(Form):
    name = StringField(_l("Lot"), validators=[Optional(), Length(max=160)])
    quantity = IntegerField(
        _l("Quantité"),
        validators=[Optional(), NumberRange(min=1, max=10000, message=_l("Une quantité entre 1 et 10 000."))],
        render_kw={"inputmode": "numeric"},
    )


class ContestForm(FlaskForm):
    title = StringField(_l("Titre"), validators=[DataRequired(message=_l("Donnez un titre.")), Length(max=160)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)], render_kw={"rows": 5})
    image = FileField(
        _l("Image (PNG ou JPEG, 2 Mo au plus)"),
        validators=[IMAGE_TYPES],
        render_kw={"accept": "image/png,image/jpeg"},
    )
    starts_at = DateTimeLocalField(
        _l("Début (date et heure)"),
        format=LOCAL_FORMAT,
        validators=[InputRequired(message=_l("Indiquez la date et l'heure de début."))],
    )
    ends_at = DateTimeLocalField(
        _l("Fin (date et heure)"),
        format=LOCAL_FORMAT,
        validators=[InputRequired(message=_l("Indiquez la date et l'heure de fin."))],
    )
    eligibility = SelectField(
        _l("Qui peut participer"),
        choices=[
            SelectChoice("everyone", _l("Tout le monde")),
            SelectChoice("cardholders", _l("Les porteurs de la carte uniquement")),
        ],
    )
    entry_type = SelectField(
        _l("Type de participation"),
        choices=[
            SelectChoice("draw", _l("Tirage au sort simple")),
            SelectChoice("question", _l("Question avec une bonne réponse")),
            SelectChoice("text", _l("Texte libre (modéré)")),
            SelectChoice("photo", _l("Photo (modérée)")),
        ],
    )
    question = TextAreaField(_l("Question (jeu avec question)"), validators=[Optional(), Length(max=1000)])
    answer = StringField(
        _l("Bonne réponse (jeu avec question)"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    entry_limit = SelectField(
        _l("Limite par personne"),
        choices=[SelectChoice("once", _l("Une fois par jeu")), SelectChoice("daily", _l("Une fois par jour"))],
    )
    minimum_age = IntegerField(
        _l("Âge minimum"),
        default=18,
        validators=[
            InputRequired(message=_l("Indiquez l'âge minimum (0 si aucun).")),
            NumberRange(min=0, max=99, message=_l("Un âge entre 0 et 99 ans.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    prizes = FieldList(FormField(PrizeRow), min_entries=PRIZE_ROWS, max_entries=MAX_PRIZE_ROWS)
    rules_extra = TextAreaField(
        _l("Texte complémentaire du règlement"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 5}
    )


class ModerationForm(FlaskForm):
    """The queue's form: checked entries and a reason; the entry ids are read by the view."""

    reason = StringField(
        _l("Motif du refus (obligatoire pour refuser)"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
