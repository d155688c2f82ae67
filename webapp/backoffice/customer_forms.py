"""Forms of the shared customer file: search, merge, undo, review decisions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SearchField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class SearchForm(FlaskForm):
    """A GET form: no CSRF token, nothing changes."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Nom, e-mail, téléphone, numéro de carte ou code postal"),
        validators=[Optional(), Length(max=120)],
    )


class MergeForm(FlaskForm):
    other = StringField(
        _l("Fiche à absorber : numéro de fiche ou numéro de carte"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


class ReviewDecisionForm(FlaskForm):
    decision = RadioField(
        _l("Décision"),
        choices=[SelectChoice("same", _l("Même personne")), SelectChoice("separate", _l("Personnes différentes"))],
        validators=[InputRequired()],
    )
