"""Forms of the back-office imports: the upload, then the column mapping of the preview."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectChoice, SelectField
from wtforms.validators import DataRequired

CUSTOMER_FIELD_LABELS = {
    "last_name": _l("Nom"),
    "first_name": _l("Prénom"),
    "full_name": _l("Nom complet (prénom et nom)"),
    "email": _l("E-mail"),
    "phone": _l("Téléphone"),
    "postcode": _l("Code postal"),
    "street": _l("Adresse (rue)"),
    "town": _l("Ville"),
    "reference": _l("Référence client de la boutique"),
    "consent_email": _l("Accord pour les e-mails"),
    "consent_sms": _l("Accord pour les SMS"),
    "consent_post": _l("Accord pour le courrier"),
    "consent_date": _l("Date de l'accord"),
}
VISIT_FIELD_LABELS = {
    "customer_ref": _l("Référence client (ou numéro de carte, ou e-mail)"),
    "date": _l("Date du passage"),
    "time": _l("Heure du passage (si la date ne la donne pas)"),
    "amount": _l("Montant (€)"),
    "shop": _l("Boutique (identifiant court)"),
}
IGNORE = ""
NO_SHOP = ""

_FILE_REQUIRED = FileRequired(_l("Choisissez un fichier."))


class CustomerUploadForm(FlaskForm):
    shop_id = SelectField(
        _l("Boutique dont c'est le fichier"),
        choices=[],
        validators=[DataRequired(_l("Choisissez la boutique dont c'est le fichier."))],
    )
    file = FileField(
        _l("Fichier clients (CSV ou Excel XLSX)"),
        validators=[
            _FILE_REQUIRED,
            FileAllowed(["csv", "txt", "xlsx"], _l("Seuls les fichiers CSV ou Excel (XLSX) sont acceptés.")),
        ],
        render_kw={"accept": ".csv,.txt,.xlsx,text/csv"},
    )


class VisitUploadForm(FlaskForm):
    shop_id = SelectField(_l("Boutique"), choices=[])
    file = FileField(
        _l("Historique des passages (CSV)"),
        validators=[
            _FILE_REQUIRED,
            FileAllowed(["csv", "txt"], _l("L'historique des passages s'importe en CSV.")),
        ],
        render_kw={"accept": ".csv,.txt,text/csv"},
    )


class MappingForm(FlaskForm):
    """One select per column of the file (`column_0`, `column_1`...), added by `mapping_form`."""

    def columns(self):
        return [self[f"column_{index}"] for index in range(self.column_count)]


def mapping_form(headers: list[str], labels: dict, guessed: dict[str, int]) -> MappingForm:
    """The mapping form of one file: each column's select offers every field, or ignoring the column,
    preselected with the field guessed from its header (a POST reads the choices sent)."""
    by_column = {index: name for name, index in guessed.items()}
    choices = [SelectChoice(IGNORE, _l("— Ignorer cette colonne —"))]
    choices += [SelectChoice(name, label) for name, label in labels.items()]

    class Form(MappingForm):
        column_count = len(headers)

    for index, header in enumerate(headers):
        label = (
            _l("Colonne « %(header)s »", header=header)
            if header
            else _l("Colonne %(number)d (sans titre)", number=index + 1)
        )
        setattr(Form, f"column_{index}", SelectField(label, choices=choices, default=by_column.get(index, IGNORE)))
    return Form()
