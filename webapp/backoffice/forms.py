from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import EmailField, IntegerField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

COLOR = Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Couleur au format #RRGGBB."))
SLUG = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("Minuscules, chiffres et tirets uniquement."))


class UnionForm(FlaskForm):
    name = StringField(_l("Nom de l'union commerciale"), validators=[DataRequired(), Length(max=120)])
    tagline = StringField(_l("Slogan"), validators=[Optional(), Length(max=200)])
    address = TextAreaField(_l("Adresse"), validators=[Optional(), Length(max=500)])
    primary_color = StringField(
        _l("Couleur principale"), validators=[DataRequired(), COLOR], render_kw={"type": "color"}
    )
    accent_color = StringField(
        _l("Couleur secondaire"), validators=[DataRequired(), COLOR], render_kw={"type": "color"}
    )
    logo = FileField(
        _l("Logo (PNG ou JPEG, 2 Mo au plus)"),
        validators=[FileAllowed(["png", "jpg", "jpeg"], _l("PNG ou JPEG uniquement."))],
    )
    points_per_euro = IntegerField(
        _l("Points par euro entier dépensé"), validators=[DataRequired(), NumberRange(min=1, max=100)]
    )
    cooldown_minutes = IntegerField(
        _l("Délai minimum entre deux passages dans une boutique (minutes)"),
        validators=[DataRequired(), NumberRange(min=1, max=1440)],
    )
    rules_text = TextAreaField(_l("Texte complémentaire du règlement"), validators=[Optional(), Length(max=20000)])


class ShopForm(FlaskForm):
    name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(_l("Identifiant court (slug)"), validators=[DataRequired(), Length(max=60), SLUG])
    category = StringField(_l("Catégorie"), validators=[Optional(), Length(max=60)])
    address = StringField(_l("Adresse"), validators=[Optional(), Length(max=200)])
    postcode = StringField(_l("Code postal"), validators=[Optional(), Length(max=10)])


class StaffForm(FlaskForm):
    display_name = StringField(_l("Nom affiché"), validators=[DataRequired(), Length(max=80)])
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Mot de passe provisoire (12 caractères au moins)"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    role = SelectField(
        _l("Rôle"),
        choices=[
            SelectChoice("merchant", _l("Commerçant")),
            SelectChoice("organiser", _l("Organisateur de jeux")),
            SelectChoice("admin", _l("Administrateur")),
        ],
    )
    shop_id = SelectField(_l("Boutique (commerçants)"), coerce=int, validators=[Optional()])
