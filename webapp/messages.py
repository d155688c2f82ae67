"""People-facing messages for domain error codes (the API sends the codes themselves)."""

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
