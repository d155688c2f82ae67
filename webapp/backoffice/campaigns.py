"""Campaign pages (admins and organisers): target and content, previews, test send, sending now or
later through the worker, the letters PDF, the effect report; posters and flyers."""

import io
import smtplib
from datetime import date
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp import campaign_mail, mail, tasks
from webapp.auth.forms import EmptyForm
from webapp.backoffice import bp
from webapp.backoffice.campaign_forms import CRITERIA_FIELDS, CampaignForm, PosterForm, ScheduleForm
from webapp.backoffice.dashboards import SEGMENT_LABELS, shop_choices
from webapp.domain import campaigns, printing, rfm, targeting
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.messages import CAMPAIGN_STATUS_LABELS, message_for
from webapp.models import Campaign, Contest, SavedTarget
from webapp.web import current_union, now

FIELD_OF_REASON = {
    "name": "name",
    "channel": "channel",
    "subject": "subject",
    "body": "body",
    "merge_field": "body",
    "template": "body",
    "cta": "cta_kind",
    "cta_url": "cta_url",
    "offer_code": "offer_code",
    "contest": "cta_contest_id",
    "holdout": "holdout_percent",
    "report_days": "report_days",
    "too_long": "body",
    "segment": "segments",
    "kind": "kind",
    "dates": "shop_since",
    "postcode": "postcodes",
}


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _choices(form: CampaignForm) -> CampaignForm:
    shops = shop_choices()
    nobody = [SelectChoice("", _("— Aucune —"))]
    form.segments.choices = [SelectChoice(code, str(SEGMENT_LABELS[code])) for code in rfm.SEGMENTS]
    form.segment_shop_id.choices = [SelectChoice("", _("Toute l'union")), *shops]
    form.shop_id.choices = [*nobody, *shops]
    contests = db.session.execute(select(Contest.id, Contest.title).order_by(Contest.starts_at.desc())).all()
    form.contest_id.choices = [*nobody, *(SelectChoice(str(i), title) for i, title in contests)]
    form.cta_contest_id.choices = [*nobody, *(SelectChoice(str(i), title) for i, title in contests)]
    targets = db.session.execute(select(SavedTarget.id, SavedTarget.name).order_by(SavedTarget.id.desc())).all()
    form.saved_target_id.choices = [*nobody, *(SelectChoice(str(i), name) for i, name in targets)]
    return form


def _criteria(data: dict) -> targeting.Criteria:
    return targeting.Criteria.from_dict(data, current_union().timezone)


def _fill(form: CampaignForm, campaign: Campaign) -> None:
    """Put a saved campaign's criteria into the form (the other fields come from `obj=`)."""
    for name in CRITERIA_FIELDS:
        value = campaign.criteria.get(name)
        if value is None:
            continue
        field = getattr(form, name)
        if name in ("shop_since", "shop_until", "last_visit_after", "last_visit_before"):
            field.data = date.fromisoformat(value)
        elif name == "postcodes":
            field.data = " ".join(value)
        elif name == "shop_visited":
            field.data = "1" if value else "0"
        elif name == "segments":
            field.data = list(value)
        else:
            field.data = str(value)
    form.cta_contest_id.data = str(campaign.contest_id or "")


@bp.get("/campaigns")
def campaign_list():
    rows = campaigns.campaigns(db.session)
    counts = {c.id: campaigns.recipient_counts(db.session, c.id) for c in rows if c.status in ("sending", "sent")}
    return render_template(
        "backoffice/campaigns/index.html", campaigns=rows, counts=counts, campaign_statuses=CAMPAIGN_STATUS_LABELS
    )


@bp.get("/campaigns/count")
def campaign_count():
    """The audience of criteria given in the query string (the editor's live count), as JSON."""
    try:
        criteria = _criteria(_query_criteria())
    except DomainError as error:
        return jsonify(error=message_for(error)), 422
    audience = targeting.count_audience(db.session, criteria, request.args.get("channel", "email"))
    return jsonify(
        targeted=audience.targeted,
        without_consent=audience.without_consent,
        without_contact=audience.without_contact,
        reachable=audience.reachable,
    )


def _query_criteria() -> dict:
    data = {name: request.args.get(name) for name in CRITERIA_FIELDS if request.args.get(name)}
    if request.args.getlist("segments"):
        data["segments"] = request.args.getlist("segments")
    return data


@bp.route("/campaigns/new", methods=["GET", "POST"])
@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
def campaign_edit(campaign_id: int | None = None):
    campaign = _campaign(campaign_id) if campaign_id else None
    if campaign is not None and campaign.status != "draft":
        flash(message_for(campaigns.CampaignLocked()), "error")
        return redirect(url_for("backoffice.campaign_detail", campaign_id=campaign.id))
    form = _choices(CampaignForm(obj=campaign))
    if campaign is not None and request.method == "GET":
        _fill(form, campaign)
    audience = None
    if form.validate_on_submit():
        try:
            criteria = _criteria(form.criteria_data())
            if request.form.get("action") == "count":
                audience = targeting.count_audience(db.session, criteria, form.channel.data)
                return _editor(form, campaign, audience)
            contest_id = form.cta_contest_id.data
            saved = campaigns.save_campaign(
                db.session,
                campaign,
                name=form.name.data,
                channel=form.channel.data,
                criteria=criteria,
                subject=form.subject.data,
                body=form.body.data,
                cta_kind=form.cta_kind.data,
                cta_label=form.cta_label.data,
                cta_url=form.cta_url.data,
                offer_code=form.offer_code.data,
                contest_id=int(contest_id) if contest_id and contest_id.isdigit() else None,
                holdout_percent=form.holdout_percent.data,
                report_days=form.report_days.data,
                by_id=current_user.id,
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            field = getattr(form, FIELD_OF_REASON.get(error.params.get("reason"), "name"))
            field.errors = [*field.errors, message_for(error)]
        else:
            db.session.commit()
            flash(_("Campagne enregistrée."), "success")
            return redirect(url_for("backoffice.campaign_detail", campaign_id=saved.id))
    return _editor(form, campaign, audience, 422 if form.errors else 200)


def _editor(form, campaign, audience, status=200):
    if audience is None:
        try:
            audience = targeting.count_audience(db.session, _criteria(form.criteria_data()), form.channel.data)
        except DomainError:
            audience = None
    return render_template(
        "backoffice/campaigns/edit.html",
        form=form,
        campaign=campaign,
        audience=audience,
        merge_fields=", ".join("{{ " + name + " }}" for name in campaigns.MERGE_FIELDS),
    ), status


@bp.get("/campaigns/<int:campaign_id>")
def campaign_detail(campaign_id: int):
    campaign = _campaign(campaign_id)
    union = current_union()
    audience = None
    if campaign.status in ("draft", "scheduled"):
        audience = targeting.count_audience(
            db.session, campaigns.criteria_of(campaign, union.timezone), campaign.channel
        )
    return render_template(
        "backoffice/campaigns/detail.html",
        campaign=campaign,
        audience=audience,
        counts=campaigns.recipient_counts(db.session, campaign.id),
        report=campaigns.effect_report(db.session, campaign, now()),
        action_form=EmptyForm(),
        schedule_form=ScheduleForm(),
        campaign_statuses=CAMPAIGN_STATUS_LABELS,
    )


@bp.get("/campaigns/<int:campaign_id>/preview")
def campaign_preview(campaign_id: int):
    """The e-mail as an imaginary recipient gets it (the HTML part), for the previews' frames."""
    campaign = _campaign(campaign_id)
    message = campaign_mail.test_message(campaign, current_user.email)
    html = mail.html_part(message)
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data: cid:; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/campaigns/<int:campaign_id>/test")
def campaign_test(campaign_id: int):
    campaign = _campaign(campaign_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        mail.deliver(campaign_mail.test_message(campaign, current_user.email))
    except (OSError, smtplib.SMTPException):
        flash(_("L'envoi de test a échoué : le serveur de messagerie ne répond pas."), "error")
    else:
        flash(_("Message de test envoyé à %(email)s.", email=current_user.email), "success")
    return redirect(url_for("backoffice.campaign_detail", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/send")
def campaign_send(campaign_id: int):
    campaign = _campaign(campaign_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        queued = tasks.start_campaign(campaign.id, by_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
    else:
        flash(_("Campagne lancée : %(num)d destinataire(s).", num=queued), "success")
    return redirect(url_for("backoffice.campaign_detail", campaign_id=campaign_id))


@bp.post("/campaigns/<int:campaign_id>/schedule")
def campaign_schedule(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        flash(_("Indiquez la date et l'heure d'envoi."), "error")
        return redirect(url_for("backoffice.campaign_detail", campaign_id=campaign.id))
    at = form.at.data.replace(tzinfo=ZoneInfo(current_union().timezone))
    try:
        campaigns.schedule(db.session, campaign, at, by_id=current_user.id, now=now())
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
    else:
        db.session.commit()
        flash(_("Envoi programmé."), "success")
    return redirect(url_for("backoffice.campaign_detail", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/cancel")
def campaign_cancel(campaign_id: int):
    campaign = _campaign(campaign_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        campaigns.cancel(db.session, campaign, now=now())
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
    else:
        db.session.commit()
        flash(_("Envoi programmé annulé : la campagne est revenue en brouillon."), "success")
    return redirect(url_for("backoffice.campaign_detail", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/letters.pdf")
def campaign_letters(campaign_id: int):
    """The letters of a letter campaign already started: one page per recipient outside the holdout."""
    campaign = _campaign(campaign_id)
    if campaign.channel != "letter" or campaign.started_at is None:
        abort(404)
    union = current_union()
    people = campaigns.letter_recipients(db.session, campaign)
    if not people:
        flash(_("Aucun destinataire : il n'y a pas de lettre à imprimer."), "error")
        return redirect(url_for("backoffice.campaign_detail", campaign_id=campaign.id))
    fields = campaigns.merge_fields(db.session, [person.id for person in people], union.name)
    letters = []
    for person in people:
        rendered = campaigns.render_content(campaign.subject, campaign.body, fields[person.id])
        name = " ".join(part for part in (person.first_name, person.last_name) if part)
        letters.append(
            printing.Letter(
                name=name,
                street=person.street or "",
                postcode=person.postcode or "",
                town=person.town or "",
                body_html=rendered.html,  # the body says hello itself ("Bonjour {{ prenom }}")
            )
        )
    try:
        pdf = _letters_pdf(union, campaign, letters)
    except printing.DoesNotFit:
        flash(_("Le message est trop long pour tenir sur une page par destinataire : raccourcissez-le."), "error")
        return redirect(url_for("backoffice.campaign_detail", campaign_id=campaign.id))
    return send_file(
        io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True, download_name=f"lettres-{campaign.id}.pdf"
    )


def _letters_pdf(union, campaign: Campaign, letters: list) -> bytes:
    return printing.letters_pdf(
        printing.brand_of(union),
        letters,
        subject=campaign.subject if "{{" not in campaign.subject else campaign.name,
        place_and_date=_("Le %(date)s", date=now().strftime("%d/%m/%Y")),
        signature=_("L'équipe de %(union)s", union=union.name),
        legal_footer=_(
            "Vous recevez ce courrier en tant que client ou contact de %(union)s. Pour ne plus en recevoir, "
            "écrivez-nous ou modifiez vos choix dans votre compte.",
            union=union.name,
        ),
        translations=get_translations(),
    )


@bp.route("/posters", methods=["GET", "POST"])
def posters():
    """A poster or flyer (A4, A3) with the union's logo and a QR code to the sign-up page or a contest."""
    form = PosterForm()
    contests = db.session.execute(
        select(Contest.slug, Contest.title).where(Contest.published_at.is_not(None)).order_by(Contest.ends_at.desc())
    ).all()
    form.destination.choices = [
        SelectChoice("signup", _("La création de carte")),
        *(SelectChoice(f"contest:{slug}", _("Le jeu « %(title)s »", title=title)) for slug, title in contests),
    ]
    if form.validate_on_submit():
        destination = form.destination.data or "signup"
        if destination.startswith("contest:") and destination.split(":", 1)[1] in {slug for slug, _t in contests}:
            path = url_for("contests.show", slug=destination.split(":", 1)[1])
        else:
            path = url_for("auth.signup")
        pdf = printing.poster_pdf(
            printing.brand_of(current_union()),
            size=form.size.data,
            title=form.title.data,
            text=form.text.data or "",
            call_to_action=form.call_to_action.data,
            qr_url=current_app.config["BASE_URL"] + path,
            translations=get_translations(),
        )
        return send_file(
            io.BytesIO(pdf),
            mimetype="application/pdf",
            as_attachment=True,
            download_name=f"affiche-{form.size.data}.pdf",
        )
    return render_template("backoffice/campaigns/posters.html", form=form), 422 if form.errors else 200
