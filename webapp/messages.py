"""People-facing messages for domain error codes (the API sends the codes themselves)."""

import re

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.domain.errors import CooldownActive, DomainError, WeakPassword

MESSAGES = {
    "invalid_card_code": _l("Ce code de carte n'est pas valide (abîmé, incomplet ou modifié). Rien n'a été crédité."),
    "unknown_card": _l("Aucune carte ne porte ce numéro. Vérifiez les 12 chiffres."),
    "card_revoked": _l(
        "Cette carte a été remplacée et n'est plus valable. Le client doit présenter sa nouvelle carte."
    ),
    "invalid_amount": _l("Montant invalide : indiquez un montant en euros, par exemple 23,50."),
    "idempotency_key_reused": _l("Ce passage a déjà été enregistré avec d'autres informations."),
    "idempotency_key_in_flight": _l("Ce passage est déjà en cours d'enregistrement. Patientez un instant."),
    "invalid_idempotency_key": _l("Le formulaire n'est pas valide. Scannez la carte à nouveau."),
    "visit_not_found": _l("Ce passage est introuvable."),
    "already_voided": _l("Ce passage est déjà annulé."),
    "email_taken": _l("Un compte existe déjà avec cette adresse. Connectez-vous ou réinitialisez le mot de passe."),
    "invalid_email": _l("Adresse e-mail invalide."),
    "invalid_phone": _l("Numéro de téléphone invalide."),
    "invalid_postcode": _l("Code postal invalide : cinq chiffres."),
    "invalid_token": _l("Ce lien n'est pas valide ou a expiré."),
    "poor_contrast": _l("Cette couleur n'offre pas assez de contraste avec un texte blanc."),
    "contest_not_found": _l("Ce jeu-concours est introuvable."),
    "campaign_locked": _l("Cette campagne est déjà partie (ou programmée) : elle ne peut plus changer."),
}

PASSWORD_MESSAGES = {
    "too_short": _l("Au moins 12 caractères, par exemple une phrase de quatre mots."),
    "too_long": _l("Ce mot de passe est trop long (256 caractères au plus)."),
    "guessable": _l("Ce mot de passe est trop courant ou trop facile à deviner. Essayez une phrase de plusieurs mots."),
}

IMAGE_MESSAGES = {
    "too_large": _l("Image trop lourde (2 Mo au plus)."),
    "too_many_pixels": _l("Image trop grande (4096 × 4096 pixels au plus)."),
    "format": _l("Seules les images PNG et JPEG sont acceptées."),
    "unreadable": _l("Ce fichier n'est pas une image lisible."),
}

# Contests: refusals whose `reason` picks the message (webapp/domain/errors.py).
REASON_MESSAGES = {
    "contest_invalid": {
        "title": _l("Indiquez un titre (160 caractères au plus)."),
        "dates": _l("La fin du jeu doit être postérieure à son début."),
        "eligibility": _l("Choisissez qui peut participer."),
        "entry_type": _l("Choisissez un type de participation."),
        "entry_limit": _l("Choisissez une limite de participation."),
        "prizes": _l("Indiquez au moins un lot."),
        "prize_name": _l("Chaque lot doit avoir un nom (160 caractères au plus)."),
        "prize_quantity": _l("La quantité de chaque lot doit être d'au moins 1."),
        "question": _l("Un jeu à question demande une question."),
        "answer": _l("Un jeu à question demande la bonne réponse."),
        "minimum_age": _l("L'âge minimum doit être compris entre 0 et 99 ans."),
        "too_long": _l("Un des textes est trop long."),
    },
    "contest_locked": {
        "started": _l(
            "Le jeu a commencé : seuls la description, le texte libre du règlement et l'image peuvent changer."
        ),
        "committed": _l("La liste des participations est figée pour le tirage : le jeu ne peut plus changer."),
    },
    "entry_refused": {
        "cardholders_only": _l("Ce jeu est réservé aux titulaires de la carte. Connectez-vous ou créez votre carte."),
        "age": _l("Ce jeu est réservé aux personnes ayant l'âge minimum indiqué dans le règlement."),
        "rules_not_accepted": _l("Pour participer, acceptez le règlement du jeu."),
        "rules_outdated": _l(
            "Le règlement a changé depuis l'affichage de la page : relisez-le puis participez à nouveau."
        ),
        "answer": _l("Indiquez votre réponse."),
        "text": _l("Écrivez votre texte."),
        "photo": _l("Ajoutez votre photo."),
        "name": _l("Indiquez votre prénom et votre nom."),
        "too_long": _l("Un des champs est trop long."),
    },
    "moderation_refused": {
        "forbidden": _l("Seuls les organisateurs et les administrateurs modèrent les participations."),
        "reason_required": _l("Indiquez le motif du refus (200 caractères au plus)."),
        "committed": _l("La liste des participations est figée pour le tirage : la modération est close."),
        "nothing_selected": _l("Sélectionnez au moins une participation."),
    },
    "draw_refused": {
        "forbidden": _l("Seuls les organisateurs et les administrateurs procèdent au tirage."),
        "not_ended": _l("Le tirage n'est possible qu'après la fin du jeu."),
        "pending_entries": _l("Des participations attendent encore la modération."),
        "already_committed": _l("La liste des participations est déjà figée."),
        "not_committed": _l("Figez d'abord la liste des participations (engagement publié)."),
        "already_drawn": _l("Le tirage a déjà eu lieu."),
        "no_eligible_entries": _l("Aucune participation valable : il n'y a rien à tirer au sort."),
        "no_prizes": _l("Ce jeu n'a aucun lot."),
    },
    "campaign_invalid": {
        "name": _l("Donnez un nom à la campagne."),
        "channel": _l("Choisissez un canal."),
        "subject": _l("Indiquez l'objet du message."),
        "body": _l("Écrivez le message."),
        "merge_field": _l(
            "Champ de fusion inconnu. Champs possibles : {{ prenom }}, {{ points }}, {{ boutique_preferee }}, "
            "{{ boutique_a_decouvrir }}, {{ union }}."
        ),
        "template": _l("Le message contient une accolade mal fermée : écrivez les champs comme {{ prenom }}."),
        "cta": _l("Choisissez un appel à l'action."),
        "cta_url": _l("Indiquez une adresse de lien complète, commençant par https://."),
        "offer_code": _l("Le code d'offre s'écrit avec 3 à 40 lettres, chiffres ou tirets."),
        "contest": _l("Choisissez le jeu-concours."),
        "holdout": _l("Le groupe témoin se choisit entre 0 et 50 pour cent de la cible."),
        "report_days": _l("La durée de mesure va de 1 à 365 jours."),
        "too_long": _l("Un des textes est trop long."),
    },
    "invalid_criteria": {
        "segment": _l("Segment RFM inconnu."),
        "kind": _l("Choisissez qui cibler."),
        "dates": _l("Vérifiez les dates : la première doit précéder la seconde."),
        "postcode": _l("Codes postaux : cinq chiffres chacun, 50 au plus, séparés par des espaces."),
    },
}
CAMPAIGN_STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "scheduled": _l("Programmée"),
    "sending": _l("En cours d'envoi"),
    "sent": _l("Envoyée"),
    "cancelled": _l("Annulée"),
}
RECIPIENT_STATUS_LABELS = {
    "queued": _l("en attente"),
    "sent": _l("envoyé"),
    "failed": _l("échec de l'envoi"),
    "holdout": _l("groupe témoin : rien envoyé"),
}
CONTEST_STATE_MESSAGES = {
    "draft": _l("Ce jeu n'est pas encore publié."),
    "upcoming": _l("Ce jeu n'a pas encore commencé."),
}


def message_for(error: DomainError) -> str:
    if isinstance(error, CooldownActive):
        return _(
            "Cette carte a déjà été créditée ici à %(time)s. Prochain crédit possible à %(retry)s.",
            time=format_datetime(error.credited_at, "HH:mm"),
            retry=format_datetime(error.retry_at, "HH:mm"),
        )
    if isinstance(error, WeakPassword):
        return str(PASSWORD_MESSAGES[error.reason])
    if error.code == "invalid_image":
        return str(IMAGE_MESSAGES.get(error.params.get("reason"), IMAGE_MESSAGES["unreadable"]))
    if error.code in REASON_MESSAGES:
        reason = REASON_MESSAGES[error.code].get(error.params.get("reason"))
        return str(reason) if reason else _("Opération impossible.")
    if error.code == "contest_not_open":
        return str(CONTEST_STATE_MESSAGES.get(error.params.get("state"), _l("Ce jeu est terminé.")))
    if error.code == "already_entered":
        if error.params.get("limit") == "daily":
            return _("Vous avez déjà participé aujourd'hui. Revenez demain !")
        return _("Vous avez déjà participé à ce jeu.")
    return str(MESSAGES.get(error.code, _("Opération impossible.")))


SEGMENT_LABELS = {
    "champions": _l("Champions"),
    "loyal": _l("Fidèles"),
    "potential_loyalists": _l("Fidèles potentiels"),
    "new": _l("Nouveaux"),
    "promising": _l("Prometteurs"),
    "need_attention": _l("À surveiller"),
    "about_to_sleep": _l("Sur le point de s'endormir"),
    "at_risk": _l("À risque"),
    "cant_lose_them": _l("À ne pas perdre"),
    "hibernating": _l("En hibernation"),
    "lost": _l("Perdus"),
}


# The importers (webapp.domain.customer_import, visit_import) explain each refused row and each
# unreadable file in English, for the command line and the stored report; here is their French.
_QUOTED = re.compile(r"""^(['"])(.*)\1$""", re.DOTALL)
IMPORT_REASONS = [
    (r"invalid email (?P<value>.+)", _l("adresse e-mail invalide : %(value)s")),
    (r"invalid phone number (?P<value>.+)", _l("numéro de téléphone invalide : %(value)s")),
    (r"reference over (?P<n>\d+) characters", _l("référence de plus de %(n)s caractères")),
    (
        r"no name, email or phone: nothing identifies the person",
        _l("ni nom, ni e-mail, ni téléphone : rien n'identifie la personne"),
    ),
    (
        r"this person's data was erased at their request",
        _l("les données de cette personne ont été effacées à sa demande"),
    ),
    (r"consent not recorded: no valid consent date", _l("accord non enregistré : pas de date d'accord valable")),
    (
        r"phone number ignored: (?P<value>.+) is not valid",
        _l("numéro de téléphone laissé de côté : %(value)s n'est pas valable"),
    ),
    (
        r"postcode ignored: (?P<value>.+) is not five digits",
        _l("code postal laissé de côté : %(value)s n'a pas cinq chiffres"),
    ),
    (r"missing customer_ref", _l("référence client manquante")),
    (r"customer_ref over (?P<n>\d+) characters", _l("référence client de plus de %(n)s caractères")),
    (r"missing date", _l("date manquante")),
    (r"not a date", _l("date illisible")),
    (r"not a date: (?P<value>.+)", _l("date illisible : %(value)s")),
    (r"date out of range: (?P<value>.+)", _l("date hors limites (entre 1900 et 2100) : %(value)s")),
    (r"date in the future: (?P<value>.+)", _l("date dans le futur : %(value)s")),
    (r"missing amount", _l("montant manquant")),
    (r"not an amount", _l("montant illisible")),
    (r"not an amount: (?P<value>.+)", _l("montant illisible : %(value)s")),
    (r"negative amount", _l("montant négatif")),
    (r"negative amount: (?P<value>.+)", _l("montant négatif : %(value)s")),
    (r"more than two decimals: (?P<value>.+)", _l("plus de deux décimales : %(value)s")),
    (r"amount above (?P<n>\d+) €: (?P<value>.+)", _l("montant supérieur à %(n)s € : %(value)s")),
    (r"unknown shop (?P<value>.+)", _l("boutique inconnue : %(value)s")),
    (
        r"reference (?P<value>.+) belongs to different people in several shops",
        _l("la référence %(value)s désigne des personnes différentes dans plusieurs boutiques"),
    ),
]
IMPORT_FILE_ERRORS = [
    (r"an Excel file was given.*", _l("Ce fichier est un classeur Excel : enregistrez-le au format CSV.")),
    (
        r"old Excel \(\.xls\) files.*",
        _l("Les anciens fichiers Excel (.xls) ne sont pas lus : enregistrez-le en XLSX ou CSV."),
    ),
    (r"the file is empty|the first sheet is empty", _l("Le fichier est vide.")),
    (r"this is not a text \(CSV\) file", _l("Ce fichier n'est pas un fichier texte (CSV).")),
    (r"line (?P<n>\d+): unreadable CSV.*", _l("Ligne %(n)s : le fichier CSV est illisible à partir de cette ligne.")),
    (r"unreadable Excel file.*", _l("Ce classeur Excel est illisible.")),
]
_IMPORT_REASONS = [(re.compile(pattern), message) for pattern, message in IMPORT_REASONS]
_IMPORT_FILE_ERRORS = [(re.compile(pattern), message) for pattern, message in IMPORT_FILE_ERRORS]


def _french(text: str, table) -> str | None:
    for pattern, message in table:
        match = pattern.fullmatch(text)
        if match:
            values = {name: _QUOTED.sub(r"« \2 »", value or "") for name, value in match.groupdict().items()}
            return str(message) % values if values else str(message)
    return None


def import_reason(reason: str) -> str:
    """A row's reason in French; several reasons are joined by "; ". Names in « » are kept as they are."""
    parts = [part for part in (reason or "").split("; ") if part]
    return " ; ".join(_french(part, _IMPORT_REASONS) or part for part in parts)


def import_file_message(error: DomainError) -> str:
    return _french(str(error), _IMPORT_FILE_ERRORS) or _("Ce fichier ne peut pas être lu comme un tableau CSV ou XLSX.")
