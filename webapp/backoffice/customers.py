"""The shared customer file: search, 360° view, merge, prospects, review queue, exports.

Admins and organisers see the whole file. Merchants may use the views marked
`merchant_allowed`, limited to the people who visited their own shop.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.auth.forms import EmptyForm
from webapp.backoffice import bp, merchant_allowed
from webapp.backoffice.common import download, write_on_get
from webapp.backoffice.customer_forms import MergeForm, ReviewDecisionForm, SearchForm
from webapp.domain import dedup, exports, people
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.messages import RECIPIENT_STATUS_LABELS, SEGMENT_LABELS
from webapp.security import roles_required, safe_next_url
from webapp.web import now

PER_PAGE = 25

SOURCE_LABELS = {
    "signup": _l("Inscription en ligne"),
    "import": _l("Fichier importé"),
    "contest": _l("Jeu-concours"),
    "counter": _l("Comptoir"),
    "api": _l("Caisse (API)"),
}

ERROR_MESSAGES = {
    "person_not_found": _l("Aucune fiche ne correspond à ce numéro de fiche ou de carte."),
    "review_item_not_found": _l("Cette proposition de doublon est introuvable."),
    "review_already_resolved": _l("Cette proposition de doublon a déjà été traitée."),
}
MERGE_MESSAGES = {
    "same_person": _l("Impossible de fusionner une fiche avec elle-même."),
    "survivor_erased": _l("Cette fiche a été effacée : elle ne peut pas en absorber une autre."),
    "survivor_merged": _l("Cette fiche a déjà été fusionnée dans une autre : fusionnez plutôt dans celle-ci."),
    "absorbed_erased": _l("La fiche à absorber a été effacée : elle ne peut pas être fusionnée."),
    "absorbed_merged": _l("La fiche à absorber a déjà été fusionnée dans une autre fiche."),
    "two_accounts": _l(
        "Les deux fiches ont chacune un compte client : fusion impossible tant que l'un des comptes existe."
    ),
}
UNDO_MESSAGES = {
    "not_a_merge": _l("Cette entrée du journal n'est pas une fusion."),
    "already_undone": _l("Cette fusion a déjà été annulée."),
    "survivor_changed": _l("La fiche conservée a depuis été fusionnée ou effacée : annulez d'abord cette opération."),
    "absorbed_changed": _l("La fiche absorbée n'est plus rattachée à cette fiche."),
    "rows_changed": _l("Des éléments déplacés par cette fusion ont changé depuis : annulation impossible."),
}


def message_for(error: DomainError) -> str:
    reason = error.params.get("reason")
    if isinstance(error, dedup.MergeRefused):
        return str(MERGE_MESSAGES[reason])
    if isinstance(error, dedup.UndoRefused):
        return str(UNDO_MESSAGES[reason])
    return str(ERROR_MESSAGES.get(error.code, _("Opération impossible.")))


def shop_scope() -> int | None:
    """None for the union's office (whole file); the merchant's own shop otherwise."""
    if current_user.role != "merchant":
        return None
    if not current_user.shop_id:
        abort(403)
    return current_user.shop_id


def page_arg() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def export_header() -> list[str]:
    return [
        _("N° de fiche"),
        _("Prénom"),
        _("Nom"),
        _("E-mail"),
        _("Téléphone"),
        _("Code postal"),
        _("Carte"),
        _("Source"),
        _("Créée le"),
    ]


def labels() -> dict:
    return {
        "segment_labels": SEGMENT_LABELS,
        "source_labels": SOURCE_LABELS,
        "recipient_statuses": RECIPIENT_STATUS_LABELS,
    }


@bp.get("/customers")
@merchant_allowed
def customers():
    form = SearchForm(formdata=request.args)
    query = (form.q.data or "")[:120]
    result = people.search(db.session, query, shop_id=shop_scope(), page=page_arg(), per_page=PER_PAGE)
    return render_template("backoffice/customers/search.html", form=form, query=query, result=result, **labels())


@bp.get("/customers/export.<fmt>")
@merchant_allowed
def customers_export(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    scope = shop_scope()
    write_on_get()
    data, _count = people.export_search(
        db.session,
        (request.args.get("q") or "")[:120],
        fmt=fmt,
        header=export_header(),
        shop_id=scope,
        by_id=current_user.id,
        now=now(),
    )
    db.session.commit()
    return download(data, fmt, "clients")


@bp.get("/customers/<int:customer_id>")
@merchant_allowed
def person(customer_id: int):
    scope = shop_scope()
    write_on_get()
    try:
        overview = people.view_person(db.session, customer_id, viewer_id=current_user.id, shop_id=scope, now=now())
    except people.PersonNotFound:
        abort(404)
    # Rendered before the commit, which would expire every loaded row and reload each one.
    page = render_template(
        "backoffice/customers/person.html",
        o=overview,
        merge_form=MergeForm(),
        undo_form=EmptyForm(),
        **labels(),
    )
    db.session.commit()
    return page


@bp.post("/customers/<int:customer_id>/merge")
@roles_required("admin")
def person_merge(customer_id: int):
    form = MergeForm()
    back = url_for("backoffice.person", customer_id=customer_id)
    if not form.validate_on_submit():
        flash(_("Indiquez le numéro de fiche ou de carte de la fiche à absorber."), "error")
        return redirect(back)
    try:
        absorbed_id = dedup.resolve_person_ref(db.session, form.other.data)
        dedup.merge_people(db.session, customer_id, absorbed_id, by_id=current_user.id, now=now())
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(back)
    db.session.commit()
    flash(
        _(
            "Fiche n° %(absorbed)d fusionnée dans cette fiche. Tout son historique y est rattaché.",
            absorbed=absorbed_id,
        ),
        "success",
    )
    return redirect(back)


@bp.post("/customers/merges/<int:entry_id>/undo")
@roles_required("admin")
def merge_undo(entry_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        undo = dedup.undo_merge(db.session, entry_id, by_id=current_user.id, now=now())
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(safe_next_url(request.form.get("next")) or url_for("backoffice.customers"))
    db.session.commit()
    flash(
        _("Fusion annulée : la fiche n° %(absorbed)d a retrouvé son historique.", absorbed=undo.detail["absorbed_id"]),
        "success",
    )
    return redirect(url_for("backoffice.person", customer_id=undo.detail["survivor_id"]))


@bp.get("/prospects")
def prospect_list():
    source = request.args.get("source") or None
    result = people.prospects(db.session, source=source, page=page_arg(), per_page=PER_PAGE)
    sources = people.prospect_sources(db.session)
    return render_template(
        "backoffice/customers/prospects.html", result=result, source=source, sources=sources, **labels()
    )


@bp.get("/prospects/export.<fmt>")
def prospects_export(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    write_on_get()
    data, _count = people.export_prospects(
        db.session,
        source=request.args.get("source") or None,
        fmt=fmt,
        header=export_header(),
        by_id=current_user.id,
        now=now(),
    )
    db.session.commit()
    return download(data, fmt, "prospects")


@bp.get("/customers/review")
def review_queue():
    result = dedup.pending_reviews(db.session, page=page_arg(), per_page=PER_PAGE)
    return render_template(
        "backoffice/customers/review.html", result=result, decision_form=ReviewDecisionForm(), **labels()
    )


@bp.post("/customers/review/<int:item_id>")
@roles_required("admin")
def review_resolve(item_id: int):
    form = ReviewDecisionForm()
    back = url_for("backoffice.review_queue")
    if not form.validate_on_submit():
        flash(_("Choisissez « Même personne » ou « Personnes différentes »."), "error")
        return redirect(back)
    try:
        resolution = dedup.resolve_review(
            db.session, item_id, same=form.decision.data == "same", by_id=current_user.id, now=now()
        )
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(back)
    db.session.commit()
    if resolution.merge is not None:
        flash(
            _(
                "Fiches fusionnées : la fiche n° %(absorbed)d est rattachée à la fiche n° %(survivor)d.",
                absorbed=resolution.merge.detail["absorbed_id"],
                survivor=resolution.merge.detail["survivor_id"],
            ),
            "success",
        )
    elif resolution.item.status == "merged":
        flash(_("Ces deux fiches étaient déjà fusionnées."), "success")
    else:
        flash(_("Noté : ce sont deux personnes différentes."), "success")
    return redirect(back)
