"""Contests, public side: the open contests, a contest's page made for phones, entering (a signed-in
cardholder in one tap, a visitor with a short form), the versioned rules, and "My entries"."""

from flask import abort, current_app, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.contests import bp
from webapp.contests.forms import EntryForm, VisitorEntryForm, prepare_entry_form
from webapp.domain import contests, draws
from webapp.domain.errors import DomainError
from webapp.extensions import db, limiter
from webapp.mail import send_mail
from webapp.messages import message_for
from webapp.models import Contest, ContestEntry
from webapp.security import roles_required
from webapp.web import now

LAST_ENTRY = "contest_entry"

# Which field shows a domain error (by code, or by the refusal's reason); the others go above the form.
FIELD_OF_ERROR = {
    "invalid_email": "email",
    "invalid_phone": "phone",
    "invalid_postcode": "postcode",
    "invalid_image": "photo",
}
FIELD_OF_REASON = {
    "age": "age_confirmed",
    "rules_not_accepted": "rules_accepted",
    "answer": "answer",
    "text": "text",
    "photo": "photo",
    "name": "first_name",
}


def _visible_contest(slug: str) -> Contest:
    """A published contest; organisers and admins may also preview a draft."""
    contest = contests.contest_by_slug(db.session, slug)
    if contest is None:
        abort(404)
    if contest.published_at is None and not (
        current_user.is_authenticated and current_user.role in ("admin", "organiser")
    ):
        abort(404)
    return contest


def _entrant_kind() -> str:
    """'cardholder' (a signed-in shopper), 'visitor' (nobody signed in) or 'staff' (cannot enter)."""
    if not current_user.is_authenticated:
        return "visitor"
    return "cardholder" if current_user.role == "shopper" else "staff"


def _entry_form(contest: Contest, kind: str, rules_version: int):
    if kind == "staff":
        return None
    form_class = VisitorEntryForm if kind == "visitor" else EntryForm
    form = prepare_entry_form(form_class(), contest)
    if not form.is_submitted():
        form.rules_version.data = str(rules_version)
    return form


def _contest_page(contest: Contest, form=None, errors=(), status: int = 200):
    moment = now()
    state = contests.contest_state(contest, moment)
    rules = contests.current_rules(db.session, contest)
    kind = _entrant_kind()
    if form is None and state == "open":
        form = _entry_form(contest, kind, rules.version if rules else 0)
    winners = draws.public_winners(db.session, contest) if contest.drawn_at else []
    return render_template(
        "contests/show.html",
        contest=contest,
        state=state,
        rules=rules,
        prizes=contests.prizes_of(db.session, contest),
        kind=kind,
        form=form,
        form_errors=list(errors),
        winners=winners,
    ), status


@bp.get("/")
def index():
    moment = now()
    rows = contests.listed_contests(db.session, moment)
    return render_template(
        "contests/index.html", contests=rows, states={row.id: contests.contest_state(row, moment) for row in rows}
    )


@bp.get("/mine")
@login_required
@roles_required("shopper")
def mine():
    rows = contests.entries_of_customer(db.session, current_user.customer_id)
    return render_template("contests/mine.html", rows=rows)


@bp.get("/<slug>")
def show(slug: str):
    return _contest_page(_visible_contest(slug))


@bp.post("/<slug>/enter")
@limiter.limit("120 per hour")
def enter(slug: str):
    contest = _visible_contest(slug)
    kind = _entrant_kind()
    if kind == "staff":
        abort(403)
    rules = contests.current_rules(db.session, contest)
    form = _entry_form(contest, kind, rules.version if rules else 0)
    if not form.validate_on_submit():
        return _contest_page(contest, form, status=422)
    photo = form.photo.data.read() if "photo" in form and form.photo.data else None
    common = dict(
        answer_text=(form.answer.data if "answer" in form else form.text.data if "text" in form else "") or "",
        photo=photo,
        public_name_consent=bool(form.public_name.data),
        rules_version=int(form.rules_version.data) if (form.rules_version.data or "").isdigit() else 0,
        now=now(),
    )
    try:
        if kind == "cardholder":
            # The one tap: the statement above the button says that entering confirms the age and the rules.
            entry = contests.enter_as_cardholder(
                db.session,
                contest,
                customer_id=current_user.customer_id,
                account_id=current_user.id,
                age_confirmed=True,
                **common,
            )
            recipient, first_name = current_user.email, current_user.display_name
        else:
            channels = {"email": form.consent_email, "sms": form.consent_sms, "post": form.consent_post}
            entry = contests.enter_as_visitor(
                db.session,
                contest,
                first_name=form.first_name.data.strip(),
                last_name=form.last_name.data.strip(),
                email=form.email.data.strip(),
                phone=(form.phone.data or "").strip(),
                postcode=form.postcode.data.strip(),
                town=(form.town.data or "").strip(),
                address="",
                age_confirmed=bool(form.age_confirmed.data) if "age_confirmed" in form else True,
                rules_accepted=bool(form.rules_accepted.data),
                consents={name: bool(field.data) for name, field in channels.items()},
                consent_wording={name: str(field.label.text) for name, field in channels.items()},
                **common,
            )
            recipient, first_name = form.email.data.strip(), form.first_name.data.strip()
    except DomainError as error:
        db.session.rollback()
        reason = error.params.get("reason")
        field = FIELD_OF_ERROR.get(error.code) or (
            FIELD_OF_REASON.get(reason) if error.code == "entry_refused" else None
        )
        if field and field in form:
            form[field].errors = [*form[field].errors, message_for(error)]
            return _contest_page(contest, form, status=422)
        if reason == "rules_outdated":  # show the current version, to be read and accepted again
            current = contests.current_rules(db.session, contest)
            form.rules_version.data = str(current.version if current else 0)
            if "rules_accepted" in form:
                form.rules_accepted.data = False
        status = 422 if error.code == "entry_refused" else 409
        return _contest_page(contest, form, errors=[message_for(error)], status=status)
    entry_id, pending = entry.id, entry.status == "pending"
    db.session.commit()
    send_mail(
        recipient,
        _("Votre participation au jeu « %(title)s »", title=contest.title),
        "contest_entry",
        first_name=first_name,
        contest=contest,
        pending=pending,
        link=current_app.config["BASE_URL"] + url_for("contests.show", slug=contest.slug),
    )
    session[LAST_ENTRY] = entry_id
    return redirect(url_for("contests.entered", slug=contest.slug))


@bp.get("/<slug>/merci")
def entered(slug: str):
    contest = _visible_contest(slug)
    entry = db.session.get(ContestEntry, session.get(LAST_ENTRY) or 0)
    if entry is None or entry.contest_id != contest.id:
        return redirect(url_for("contests.show", slug=slug))
    return render_template("contests/entered.html", contest=contest, entry=entry)


@bp.get("/<slug>/rules")
def rules(slug: str):
    contest = _visible_contest(slug)
    versions = contests.rules_versions(db.session, contest)[::-1]
    if not versions:
        abort(404)
    wanted = request.args.get("version", type=int)
    shown = next((rules for rules in versions if rules.version == wanted), None) if wanted else versions[0]
    if shown is None:
        abort(404)
    return render_template("contests/rules.html", contest=contest, rules=shown, versions=versions, latest=versions[0])


@bp.get("/<slug>/image.png")
def image(slug: str):
    contest = _visible_contest(slug)
    if not contest.image_png:
        abort(404)
    response = make_response(contest.image_png)
    response.mimetype = "image/png"
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
