"""RFM dashboards, movement between snapshots, cross-shop prescription, zone coverage.

Admins and organisers see the whole union and may pick one shop; merchants see the same
pages limited to their own shop, whatever the query string says. Every figure comes from
webapp.domain.dashboards (SQL aggregates over stored RFM snapshots and the visits).
"""

from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp import messages, tasks
from webapp.auth.forms import EmptyForm
from webapp.backoffice import bp, merchant_allowed
from webapp.backoffice.common import download, write_on_get
from webapp.backoffice.dashboard_forms import (
    CrossShopForm,
    MovementForm,
    SaveTargetForm,
    ScopeForm,
    SnapshotForm,
    ZoneForm,
)
from webapp.domain import dashboards, exports, rfm, rfm_refresh
from webapp.extensions import db
from webapp.models import RfmRefresh, RfmSnapshot, Shop
from webapp.security import roles_required
from webapp.web import current_union, now

PER_PAGE = 50

SEGMENT_LABELS = {**messages.SEGMENT_LABELS, dashboards.ABSENT: _l("Absents du profil")}


# Scope: which shop, which snapshot. A merchant is always held to their own shop.


def is_merchant() -> bool:
    return current_user.role == "merchant"


def scope_shop_id() -> int | None:
    """None: the whole union. A merchant gets their shop whatever `?shop=` says."""
    if is_merchant():
        if not current_user.shop_id:
            abort(403)
        return current_user.shop_id
    return shop_arg("shop", required=False)


def shop_arg(name: str, *, required: bool) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        if required:
            abort(404)
        return None
    if not raw.isdigit() or db.session.get(Shop, int(raw)) is None:
        abort(404)
    return int(raw)


def snapshot_arg(name: str, shop_id: int | None, default: RfmSnapshot | None = None) -> RfmSnapshot | None:
    """The snapshot named in the query string, which must belong to the scope (else 404)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default if default is not None else dashboards.snapshot_in_scope(db.session, None, shop_id)
    if not raw.isdigit():
        abort(404)
    snapshot = dashboards.snapshot_in_scope(db.session, int(raw), shop_id)
    if snapshot is None:
        abort(404)
    return snapshot


def page_arg() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def shop_choices() -> list[SelectChoice]:
    shops = db.session.execute(select(Shop.id, Shop.name).where(Shop.active).order_by(Shop.name, Shop.id)).all()
    return [SelectChoice(str(shop_id), name) for shop_id, name in shops]


def shop_name(shop_id: int | None) -> str:
    if shop_id is None:
        return _("Toute l'union")
    shop = db.session.get(Shop, shop_id)
    return shop.name if shop else ""


def snapshot_label(snapshot: RfmSnapshot) -> str:
    label = format_date(snapshot.as_of, "long")
    if snapshot.window_start:
        label = _("%(date)s (depuis le %(start)s)", date=label, start=format_date(snapshot.window_start, "long"))
    return label


def scope_args(shop_id: int | None) -> dict:
    """Query arguments that keep the scope in links (none for merchants: theirs is implied)."""
    return {"shop": shop_id} if shop_id is not None and not is_merchant() else {}


def scope_form(shop_id: int | None) -> ScopeForm | None:
    if is_merchant():
        return None
    form = ScopeForm(formdata=None, shop="" if shop_id is None else str(shop_id))
    form.shop.choices = [SelectChoice("", _("Toute l'union")), *shop_choices()]
    return form


def snapshot_form(shop_id: int | None, snapshot: RfmSnapshot | None) -> SnapshotForm:
    form = SnapshotForm(formdata=None, snapshot=str(snapshot.id) if snapshot else "")
    form.snapshot.choices = [
        SelectChoice(str(s.id), snapshot_label(s)) for s in dashboards.snapshots(db.session, shop_id)
    ]
    return form


def local_today():
    return now().astimezone(ZoneInfo(current_union().timezone)).date()


def export_header(with_previous: bool = False) -> list[str]:
    header = [
        _("Référence"),
        _("Prénom"),
        _("Nom"),
        _("R"),
        _("F"),
        _("M"),
        _("Segment"),
        _("Récence (jours)"),
        _("Fréquence (passages)"),
        _("Montant (centimes)"),
    ]
    if with_previous:
        header.append(_("Segment précédent"))
    return header


def percent(value: float | None) -> str:
    """A share with one decimal, in the locale's own pattern (French: "12,5 %")."""
    if value is None:
        return "—"
    pattern = get_locale().percent_formats[None].pattern.replace("0", "0.0", 1)
    return format_percent(value, pattern)


def person_endpoint() -> str | None:
    """The 360° view of a person, when the customer file offers it."""
    return "backoffice.person" if "backoffice.person" in current_app.view_functions else None


def scope_context(shop_id: int | None) -> dict:
    """What every dashboard page shows of its scope (the union or one shop) and its scope picker."""
    return dict(
        shop_id=shop_id, shop_name=shop_name(shop_id), scope=scope_args(shop_id), scope_form=scope_form(shop_id)
    )


def render(template: str, status: int = 200, **context):
    context.setdefault("segment_labels", SEGMENT_LABELS)
    return (
        render_template(
            template,
            percent=percent,
            number=format_decimal,
            snapshot_label=snapshot_label,
            format_datetime=format_datetime,
            format_date=format_date,
            is_merchant=is_merchant(),
            person_endpoint=person_endpoint(),
            **context,
        ),
        status,
    )


# 1 and 2. Segment sizes and the R x FM grid; 7. refresh.


@bp.get("/dashboards")
@merchant_allowed
def dashboard():
    shop_id = scope_shop_id()
    snapshot = snapshot_arg("snapshot", shop_id)
    figures = dashboards.overview(db.session, snapshot.id) if snapshot else None
    return render(
        "backoffice/dashboards/overview.html",
        **scope_context(shop_id),
        snapshot_form=snapshot_form(shop_id, snapshot),
        snapshot=snapshot,
        figures=figures,
        refresh_form=EmptyForm() if current_user.role == "admin" else None,
        last_refresh=rfm_refresh.latest(db.session) if current_user.role == "admin" else None,
    )


@bp.post("/dashboards/refresh")
@roles_required("admin")
def dashboard_refresh():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    request_id, created = tasks.request_rfm_refresh(by_id=current_user.id)
    flash(*refresh_message(db.session.get(RfmRefresh, request_id), created))
    shop = request.form.get("shop", type=int)
    return redirect(url_for("backoffice.dashboard", **({"shop": shop} if shop else {})))


def refresh_message(refresh: RfmRefresh, created: bool) -> tuple[str, str]:
    """What the admin is told after pressing the button: done already (no worker), queued, or failed."""
    db.session.refresh(refresh)
    if refresh.status == "done":
        union_wide = rfm.latest_snapshot(db.session, None)
        return (
            _(
                "Profils RFM recalculés au %(date)s : toute l'union (%(people)s personnes) et %(shops)d boutiques.",
                date=format_date(refresh.as_of, "long"),
                people=format_decimal(union_wide.people if union_wide else 0),
                shops=refresh.snapshots - 1,
            ),
            "success",
        )
    if refresh.status == "failed":
        return _("Le recalcul a échoué ; réessayez plus tard ou prévenez l'assistance."), "error"
    if not created:
        return _("Un recalcul est déjà en cours : les tableaux seront à jour dans quelques minutes."), "info"
    return _("Recalcul demandé : les tableaux seront à jour dans quelques minutes."), "success"


@bp.get("/dashboards/segments/<segment>")
@merchant_allowed
def dashboard_segment(segment: str):
    if segment not in rfm.SEGMENTS:
        abort(404)
    shop_id = scope_shop_id()
    snapshot = snapshot_arg("snapshot", shop_id)
    if snapshot is None:
        abort(404)
    result = dashboards.segment_members(db.session, snapshot.id, segment, page=page_arg(), per_page=PER_PAGE)
    return render(
        "backoffice/dashboards/segment.html",
        segment=segment,
        shop_id=shop_id,
        shop_name=shop_name(shop_id),
        snapshot=snapshot,
        result=result,
        args={**scope_args(shop_id), "snapshot": snapshot.id},
    )


@bp.get("/dashboards/segments/<segment>/export.<fmt>")
@merchant_allowed
def dashboard_segment_export(segment: str, fmt: str):
    if segment not in rfm.SEGMENTS or fmt not in exports.FORMATS:
        abort(404)
    shop_id = scope_shop_id()
    snapshot = snapshot_arg("snapshot", shop_id)
    if snapshot is None:
        abort(404)
    snapshot_id = snapshot.id
    write_on_get()
    snapshot = db.session.get(RfmSnapshot, snapshot_id)
    data, _count = dashboards.export_segment(
        db.session,
        snapshot,
        segment,
        fmt=fmt,
        header=export_header(),
        segment_labels={code: str(label) for code, label in SEGMENT_LABELS.items()},
        by_id=current_user.id,
        now=now(),
    )
    db.session.commit()
    return download(data, fmt, f"segment-{segment}-{snapshot.as_of:%Y%m%d}")


# 3. Distributions.


@bp.get("/dashboards/distributions")
@merchant_allowed
def dashboard_distributions():
    shop_id = scope_shop_id()
    snapshot = snapshot_arg("snapshot", shop_id)
    figures = dashboards.distributions(db.session, snapshot.id) if snapshot else None
    return render(
        "backoffice/dashboards/distributions.html",
        **scope_context(shop_id),
        snapshot_form=snapshot_form(shop_id, snapshot),
        snapshot=snapshot,
        figures=figures,
    )


# 4. Movement between two snapshots of the same scope.


def movement_pair(shop_id: int | None) -> tuple[RfmSnapshot | None, RfmSnapshot | None]:
    """The two snapshots compared: those asked for, else the two latest of the scope."""
    latest = dashboards.snapshots(db.session, shop_id)[:2]
    after = snapshot_arg("after", shop_id, default=latest[0] if latest else None)
    before = snapshot_arg("before", shop_id, default=latest[1] if len(latest) > 1 else None)
    if before is not None and after is not None and before.as_of > after.as_of:
        before, after = after, before
    return before, after


def segment_arg(name: str) -> str:
    value = request.args.get(name, "")
    if value not in rfm.SEGMENTS and value != dashboards.ABSENT:
        abort(404)
    return value


@bp.get("/dashboards/movement")
@merchant_allowed
def dashboard_movement():
    shop_id = scope_shop_id()
    before, after = movement_pair(shop_id)
    comparable = before is not None and after is not None and before.id != after.id
    figures = dashboards.movement(db.session, before.id, after.id) if comparable else None
    form = MovementForm(formdata=None, before=str(before.id) if before else "", after=str(after.id) if after else "")
    choices = [SelectChoice(str(s.id), snapshot_label(s)) for s in dashboards.snapshots(db.session, shop_id)]
    form.before.choices = choices
    form.after.choices = choices
    return render(
        "backoffice/dashboards/movement.html",
        **scope_context(shop_id),
        form=form,
        before=before,
        after=after,
        figures=figures,
        args={**scope_args(shop_id), **({"before": before.id, "after": after.id} if comparable else {})},
    )


@bp.get("/dashboards/movement/people")
@merchant_allowed
def dashboard_movement_people():
    shop_id = scope_shop_id()
    before, after = movement_pair(shop_id)
    if before is None or after is None or before.id == after.id:
        abort(404)
    was, became = segment_arg("was"), segment_arg("became")
    if was == dashboards.ABSENT and became == dashboards.ABSENT:
        abort(404)
    result = dashboards.movement_members(
        db.session, before.id, after.id, was, became, page=page_arg(), per_page=PER_PAGE
    )
    return render(
        "backoffice/dashboards/movement_people.html",
        shop_id=shop_id,
        shop_name=shop_name(shop_id),
        before=before,
        after=after,
        was=was,
        became=became,
        result=result,
        args={**scope_args(shop_id), "before": before.id, "after": after.id, "was": was, "became": became},
    )


@bp.get("/dashboards/movement/export.<fmt>")
@merchant_allowed
def dashboard_movement_export(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    shop_id = scope_shop_id()
    before, after = movement_pair(shop_id)
    if before is None or after is None or before.id == after.id:
        abort(404)
    was, became = segment_arg("was"), segment_arg("became")
    if was == dashboards.ABSENT and became == dashboards.ABSENT:
        abort(404)
    before_id, after_id = before.id, after.id
    write_on_get()
    data, _count = dashboards.export_movement(
        db.session,
        db.session.get(RfmSnapshot, before_id),
        db.session.get(RfmSnapshot, after_id),
        was,
        became,
        fmt=fmt,
        header=export_header(with_previous=True),
        segment_labels={code: str(label) for code, label in SEGMENT_LABELS.items()},
        by_id=current_user.id,
        now=now(),
    )
    db.session.commit()
    return download(data, fmt, f"evolution-{was}-{became}")


# 5. Cross-shop prescription.

WINDOW_LABELS = {
    None: _l("Tout l'historique"),
    3: _l("3 derniers mois"),
    6: _l("6 derniers mois"),
    12: _l("12 derniers mois"),
    24: _l("24 derniers mois"),
}


def window_arg() -> dashboards.Window:
    """The asked window, ending on the date of the latest union-wide snapshot (whose pair counts
    are stored), else today: the counts and the lists of one page then cover the same visits."""
    months = request.args.get("months", type=int)
    if months not in dashboards.WINDOW_MONTHS:
        months = None
    snapshot = dashboards.cross_shop_snapshot(db.session)
    end = snapshot.as_of if snapshot is not None else local_today()
    return dashboards.window_of(end, months, current_union().timezone)


def window_args(window: dashboards.Window) -> dict:
    return {"months": window.months} if window.months else {}


def cross_shop_from() -> int | None:
    """Shop A: the merchant's own; for the office, the one asked for, else the first shop."""
    if is_merchant():
        return scope_shop_id()
    chosen = shop_arg("shop", required=False)
    if chosen is not None:
        return chosen
    return db.session.scalar(select(Shop.id).where(Shop.active).order_by(Shop.name, Shop.id).limit(1))


def pair_shops(from_shop: int, to_shop: int) -> tuple[Shop, Shop]:
    """The pair of a list: a merchant may only list the customers of their own shop (A)."""
    if is_merchant() and from_shop != scope_shop_id():
        abort(403)
    shop_a, shop_b = db.session.get(Shop, from_shop), db.session.get(Shop, to_shop)
    if shop_a is None or shop_b is None or from_shop == to_shop:
        abort(404)
    return shop_a, shop_b


@bp.get("/dashboards/cross-shop")
@merchant_allowed
def dashboard_cross_shop():
    from_shop = cross_shop_from()
    window = window_arg()
    figures = dashboards.cross_shop(db.session, from_shop, window) if from_shop else None
    form = CrossShopForm(formdata=None, shop=str(from_shop or ""), months=str(window.months) if window.months else "")
    form.shop.choices = shop_choices()
    form.months.choices = [SelectChoice(str(m) if m else "", label) for m, label in WINDOW_LABELS.items()]
    return render(
        "backoffice/dashboards/cross_shop.html",
        from_shop=from_shop,
        shop_name=shop_name(from_shop) if from_shop else "",
        form=form,
        window=window,
        window_label=WINDOW_LABELS[window.months],
        figures=figures,
        args=window_args(window),
    )


@bp.get("/dashboards/cross-shop/<int:from_shop>/<int:to_shop>")
@merchant_allowed
def dashboard_cross_shop_people(from_shop: int, to_shop: int):
    shop_a, shop_b = pair_shops(from_shop, to_shop)
    window = window_arg()
    result = dashboards.never_visited(db.session, from_shop, to_shop, window, page=page_arg(), per_page=PER_PAGE)
    form = SaveTargetForm(
        formdata=None,
        name=_("Clients de %(a)s jamais venus chez %(b)s", a=shop_a.name, b=shop_b.name)[:120],
    )
    return render(
        "backoffice/dashboards/cross_shop_people.html",
        shop_a=shop_a,
        shop_b=shop_b,
        window=window,
        window_label=WINDOW_LABELS[window.months],
        result=result,
        form=form,
        args=window_args(window),
    )


@bp.post("/dashboards/cross-shop/<int:from_shop>/<int:to_shop>/save")
@merchant_allowed
def dashboard_cross_shop_save(from_shop: int, to_shop: int):
    shop_a, shop_b = pair_shops(from_shop, to_shop)
    window = window_arg()
    form = SaveTargetForm()
    if not form.validate_on_submit():
        result = dashboards.never_visited(db.session, from_shop, to_shop, window, page=1, per_page=PER_PAGE)
        return render(
            "backoffice/dashboards/cross_shop_people.html",
            422,
            shop_a=shop_a,
            shop_b=shop_b,
            window=window,
            window_label=WINDOW_LABELS[window.months],
            result=result,
            form=form,
            args=window_args(window),
        )
    target = dashboards.save_cross_shop_target(
        db.session, from_shop, to_shop, window, name=form.name.data, by_id=current_user.id, now=now()
    )
    db.session.commit()
    flash(
        _(
            "Cible « %(name)s » enregistrée : %(count)s personnes.",
            name=target.name,
            count=format_decimal(target.size),
        ),
        "success",
    )
    return redirect(
        url_for("backoffice.dashboard_cross_shop_people", from_shop=from_shop, to_shop=to_shop, **window_args(window))
    )


# 6. Zone coverage (the union's office; admins edit the residents).


def zones_page(form: ZoneForm, status: int = 200):
    return render(
        "backoffice/dashboards/zones.html",
        status,
        figures=dashboards.coverage(db.session),
        form=form if current_user.role == "admin" else None,
    )


@bp.get("/dashboards/zones")
def dashboard_zones():
    form = ZoneForm(formdata=None)
    chosen = (request.args.get("postcode") or "").strip()
    if chosen:
        zone = dashboards.zone(db.session, chosen)
        form = ZoneForm(formdata=None, obj=zone) if zone else ZoneForm(formdata=None, postcode=chosen)
    return zones_page(form)


@bp.post("/dashboards/zones")
@roles_required("admin")
def dashboard_zone_save():
    form = ZoneForm()
    if not form.validate_on_submit():
        return zones_page(form, 422)
    try:
        zone = dashboards.save_zone(
            db.session,
            postcode=form.postcode.data,
            label=form.label.data or "",
            residents=form.residents.data,
            now=now(),
        )
    except dashboards.InvalidZone:
        db.session.rollback()
        form.postcode.errors.append(_("Code postal invalide."))
        return zones_page(form, 422)
    db.session.commit()
    flash(_("Code postal %(postcode)s enregistré.", postcode=zone.postcode), "success")
    return redirect(url_for("backoffice.dashboard_zones"))
