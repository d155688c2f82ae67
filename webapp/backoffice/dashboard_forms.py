"""Forms of the dashboards: selectors read from the query string (GET, no CSRF token) and the two
forms that change something (saving a target, a postcode's residents), which carry their token."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp


class QueryForm(FlaskForm):
    """A selector submitted by GET: no CSRF token, read from request.args."""

    class Meta:
        csrf = False


class ScopeForm(QueryForm):
    shop = SelectField(_l("Périmètre"))


class SnapshotForm(QueryForm):
    snapshot = SelectField(_l("Date du profil RFM"))


class MovementForm(QueryForm):
    before = SelectField(_l("Profil de départ"))
    after = SelectField(_l("Profil d'arrivée"))


class CrossShopForm(QueryForm):
    shop = SelectField(_l("Boutique de départ (A)"))
    months = SelectField(_l("Période d'analyse"))


class SaveTargetForm(FlaskForm):
    name = StringField(
        _l("Nom de la cible"),
        validators=[DataRequired(message=_l("Donnez un nom à la cible.")), Length(max=120)],
    )


class ZoneForm(FlaskForm):
    postcode = StringField(
        _l("Code postal"),
        validators=[
            DataRequired(),
            Length(max=10),
            Regexp(r"^\s*[0-9A-Za-z][0-9A-Za-z -]*\s*$", message=_l("Code postal invalide.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    label = StringField(_l("Nom du secteur (facultatif)"), validators=[Length(max=80)])
    residents = IntegerField(
        _l("Nombre d'habitants"),
        validators=[
            InputRequired(message=_l("Indiquez le nombre d'habitants.")),
            NumberRange(min=0, max=10_000_000, message=_l("Un nombre entre 0 et 10 000 000.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
