"""The organiser's pages (organisers and admins): contests and their states, the editor, publishing,
the moderation queue, the commitment and the draw (then the winners' emails), figures, the CSV export."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.auth.forms import EmptyForm
from webapp.backoffice.common import download, write_on_get
from webapp.contests import manage_bp as bp
from webapp.contests.forms import MAX_PRIZE_ROWS, ContestForm, ModerationForm
from webapp.domain import contest_stats, contests, draws, moderation
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.messages import message_for
from webapp.models import Contest
from webapp.web import current_union, now

PER_PAGE = 50
QUEUE_STATUSES = ("pending", "accepted", "rejected")
FLAG_LABELS = {
    "duplicate_email": _l("Même e-mail qu'une autre personne"),
    "duplicate_phone": _l("Même téléphone qu'une autre personne"),
    "duplicate_address": _l("Même adresse qu'une autre personne"),
    "disposable_email": _l("Adresse e-mail jetable"),
}

# Which editor field shows a ContestInvalid reason; the others are shown above the form.
FIELD_OF_REASON = {
    "title": "title",
    "dates": "ends_at",
    "eligibility": "eligibility",
    "entry_type": "entry_type",
    "entry_limit": "entry_limit",
    "question": "question",
    "answer": "answer",
    "minimum_age": "minimum_age",
}


def _contest(contest_id: int) -> Contest:
    contest = contests.contest_by_id(db.session, contest_id)
    if contest is None:
        abort(404)
    return contest


def _zone() -> ZoneInfo:
    return ZoneInfo(current_union().timezone or "Europe/Paris")


def _to_utc(local: datetime | None) -> datetime | None:
    """A date-time typed in the union's time zone, as an aware datetime."""
    return local.replace(tzinfo=_zone()) if local else None


def _to_local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(_zone()).replace(tzinfo=None) if moment else None


@bp.get("/")
def index():
    moment = now()
    rows = contests.all_contests(db.session)
    return render_template(
        "contests/manage/index.html",
        contests=rows,
        states={row.id: contests.contest_state(row, moment) for row in rows},
    )


def _prize_rows(contest: Contest | None) -> list[dict]:
    if contest is None:
        return []
    return [{"name": prize.name, "quantity": prize.quantity} for prize in contests.prizes_of(db.session, contest)]


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:contest_id>/edit", methods=["GET", "POST"])
def edit(contest_id: int | None = None):
    contest = _contest(contest_id) if contest_id else None
    if request.method == "GET":
        form = ContestForm(obj=contest)
        if contest is not None:
            form.starts_at.data, form.ends_at.data = _to_local(contest.starts_at), _to_local(contest.ends_at)
            rows = _prize_rows(contest)
            while len(form.prizes) < len(rows) + 1 and len(form.prizes) < MAX_PRIZE_ROWS:
                form.prizes.append_entry()
            for entry, row in zip(form.prizes, rows, strict=False):
                entry.form.name.data, entry.form.quantity.data = row["name"], row["quantity"]
    else:
        form = ContestForm()
    errors = []
    if "add_prize" in request.form and form.is_submitted():
        if len(form.prizes) < MAX_PRIZE_ROWS:
            form.prizes.append_entry()
        return _editor(form, contest, errors)
    if form.validate_on_submit():
        prizes = [
            ((row.form.name.data or "").strip(), row.form.quantity.data or 0)
            for row in form.prizes
            if (row.form.name.data or "").strip() or row.form.quantity.data
        ]
        try:
            saved = contests.save_contest(
                db.session,
                contest,
                title=form.title.data.strip(),
                description=form.description.data or "",
                starts_at=_to_utc(form.starts_at.data),
                ends_at=_to_utc(form.ends_at.data),
                eligibility=form.eligibility.data,
                entry_type=form.entry_type.data,
                question=form.question.data or "",
                answer=form.answer.data or "",
                entry_limit=form.entry_limit.data,
                minimum_age=form.minimum_age.data,
                rules_extra=form.rules_extra.data or "",
                prizes=prizes,
                image=form.image.data.read() if form.image.data else None,
                by_id=current_user.id,
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            field = "image" if error.code == "invalid_image" else FIELD_OF_REASON.get(error.params.get("reason"))
            if field:
                form[field].errors = [*form[field].errors, message_for(error)]
            else:
                errors.append(message_for(error))
        else:
            saved_id = saved.id
            db.session.commit()
            flash(_("Jeu enregistré."), "success")
            return redirect(url_for("contests.manage.detail", contest_id=saved_id))
    return _editor(form, contest, errors, 422 if (form.errors or errors) else 200)


def _editor(form, contest, errors, status=200):
    for number, row in enumerate(form.prizes, start=1):
        row.form.name.label.text = _("Lot n° %(num)d", num=number)
        row.form.quantity.label.text = _("Quantité du lot n° %(num)d", num=number)
    return render_template("contests/manage/edit.html", form=form, contest=contest, errors=errors), status


@bp.get("/<int:contest_id>")
def detail(contest_id: int):
    contest = _contest(contest_id)
    moment = now()
    counts = moderation.queue_counts(db.session, contest.id)
    return render_template(
        "contests/manage/detail.html",
        contest=contest,
        state=contests.contest_state(contest, moment),
        counts=counts,
        prizes=_prize_rows(contest),
        winners=draws.draw_results(db.session, contest) if contest.drawn_at else [],
        action_form=EmptyForm(),
    )


def _action(contest_id: int, run, success: str):
    """A state-changing button (publish, commit): CSRF-checked, refusals flashed."""
    contest = _contest(contest_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        run(contest)
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("contests.manage.detail", contest_id=contest_id))


@bp.post("/<int:contest_id>/publish")
def publish(contest_id: int):
    return _action(
        contest_id,
        lambda contest: contests.publish_contest(db.session, contest, now()),
        _("Jeu publié : il apparaît sur le site à sa date de début."),
    )


@bp.post("/<int:contest_id>/commit")
def commit(contest_id: int):
    return _action(
        contest_id,
        lambda contest: draws.commit_draw(db.session, contest, now(), by_id=current_user.id),
        _("Liste figée et engagement publié sur la page du jeu. Vous pouvez maintenant lancer le tirage."),
    )


@bp.post("/<int:contest_id>/draw")
def draw(contest_id: int):
    contest = _contest(contest_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        draws.run_draw(db.session, contest, now(), by_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("contests.manage.detail", contest_id=contest_id))
    db.session.commit()
    sent, failed = _notify_winners(contest)
    flash(
        _("Tirage effectué. %(sent)d gagnant(s) prévenu(s) par e-mail.", sent=sent)
        + (" " + _("%(failed)d e-mail(s) n'ont pas pu partir.", failed=failed) if failed else ""),
        "success" if not failed else "error",
    )
    return redirect(url_for("contests.manage.detail", contest_id=contest_id))


def _notify_winners(contest: Contest) -> tuple[int, int]:
    """Email each prize winner not yet notified; mark `notified_at` once their mail has left."""
    sent = failed = 0
    link = current_app.config["BASE_URL"] + url_for("contests.show", slug=contest.slug)
    for winner in draws.draw_results(db.session, contest):
        if winner.reserve or winner.notified_at is not None or not winner.email:
            continue
        if send_mail(
            winner.email,
            _("Vous avez gagné au jeu « %(title)s »", title=contest.title),
            "contest_winner",
            first_name=winner.first_name or "",
            contest=contest,
            prize=winner.prize_name or "",
            link=link,
        ):
            draws.mark_notified(db.session, [winner.id], now())
            db.session.commit()
            sent += 1
        else:
            failed += 1
    return sent, failed


@bp.post("/<int:contest_id>/notify")
def notify(contest_id: int):
    """Send again the winners' emails that could not leave at the draw."""
    contest = _contest(contest_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if contest.drawn_at is None:
        abort(409)
    sent, failed = _notify_winners(contest)
    flash(
        _("%(sent)d gagnant(s) prévenu(s) par e-mail.", sent=sent)
        + (" " + _("%(failed)d e-mail(s) n'ont pas pu partir.", failed=failed) if failed else ""),
        "success" if not failed else "error",
    )
    return redirect(url_for("contests.manage.detail", contest_id=contest_id))


def _queue_args() -> dict:
    status = request.args.get("status", "pending")
    return {
        "status": status if status in QUEUE_STATUSES else "pending",
        "flagged_only": request.args.get("flagged") == "1",
        "after_id": request.args.get("after", type=int),
    }


@bp.get("/<int:contest_id>/moderation")
def moderation_queue(contest_id: int):
    contest = _contest(contest_id)
    return _queue_page(contest, ModerationForm(), _queue_args())


def _queue_page(contest, form, args, status=200):
    rows = moderation.moderation_queue(
        db.session,
        contest.id,
        status=args["status"],
        flagged_only=args["flagged_only"],
        after_id=args["after_id"],
        limit=PER_PAGE + 1,
    )
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    return render_template(
        "contests/manage/moderation.html",
        contest=contest,
        state=contests.contest_state(contest, now()),
        rows=rows,
        form=form,
        args=args,
        next_after=rows[-1].id if more else None,
        flag_labels=FLAG_LABELS,
    ), status


@bp.post("/<int:contest_id>/moderation")
def moderate(contest_id: int):
    contest = _contest(contest_id)
    form = ModerationForm()
    args = _queue_args()
    back = url_for(
        "contests.manage.moderation_queue",
        contest_id=contest_id,
        status=args["status"],
        flagged="1" if args["flagged_only"] else None,
        after=args["after_id"],
    )
    if not form.validate_on_submit():
        return _queue_page(contest, form, args, 422)
    one = request.form.get("one", "")
    if one:  # a row's own button: "approve:ID" or "reject:ID", with that row's reason
        action, _sep, raw_id = one.partition(":")
        ids = [int(raw_id)] if raw_id.isdigit() else []
        reason = (request.form.get(f"reason-{raw_id}") or "").strip() or (form.reason.data or "").strip()
    else:
        action = request.form.get("bulk", "")
        ids = [int(value) for value in request.form.getlist("entry") if value.isdigit()]
        reason = (form.reason.data or "").strip()
    if action not in ("approve", "reject"):
        abort(400)
    try:
        count = moderation.moderate(
            db.session, contest, ids, approve=action == "approve", reason=reason[:200], by_id=current_user.id, now=now()
        )
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(back)
    db.session.commit()
    if action == "approve":
        flash(_("%(num)d participation(s) validée(s).", num=count), "success")
    else:
        flash(_("%(num)d participation(s) refusée(s).", num=count), "success")
    return redirect(back)


@bp.get("/<int:contest_id>/entries/<int:entry_id>/photo.png")
def entry_photo(contest_id: int, entry_id: int):
    photo = moderation.entry_photo(db.session, contest_id, entry_id)
    if not photo:
        abort(404)
    response = make_response(photo)
    response.mimetype = "image/png"
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/<int:contest_id>/figures")
def figures(contest_id: int):
    contest = _contest(contest_id)
    return render_template(
        "contests/manage/figures.html", contest=contest, figures=contest_stats.contest_figures(db.session, contest)
    )


@bp.get("/<int:contest_id>/export.csv")
def export(contest_id: int):
    contest = _contest(contest_id)
    write_on_get()
    data, _count = contest_stats.export_entries(db.session, contest, by_id=current_user.id, now=now())
    db.session.commit()
    return download(data, "csv", f"participations-{contest.slug}")
