"""The union's back office: overview, branding and rules, shops, staff accounts."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from webapp.auth.forms import EmptyForm
from webapp.backoffice import bp
from webapp.backoffice.forms import ShopForm, StaffForm, UnionForm
from webapp.domain import accounts, branding, shops
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.messages import message_for
from webapp.models import Account, Card, Shop, Visit
from webapp.security import roles_required
from webapp.web import current_union, now


@bp.get("/")
def index():
    figures = {
        "shops": db.session.scalar(select(func.count(Shop.id)).where(Shop.active)),
        "cards": db.session.scalar(select(func.count(Card.id)).where(Card.status == "active")),
        "visits": db.session.scalar(select(func.count(Visit.id)).where(Visit.voided_at.is_(None))),
    }
    return render_template("backoffice/index.html", figures=figures)


@bp.route("/settings", methods=["GET", "POST"])
@roles_required("admin")
def settings():
    union = current_union()
    form = UnionForm(obj=union)
    if form.validate_on_submit():
        logo = form.logo.data.read() if form.logo.data else None
        try:
            branding.update_union(
                db.session,
                union,
                name=form.name.data.strip(),
                tagline=form.tagline.data or "",
                address=form.address.data or "",
                primary_color=form.primary_color.data,
                accent_color=form.accent_color.data,
                points_per_euro=form.points_per_euro.data,
                cooldown_minutes=form.cooldown_minutes.data,
                rules_text=form.rules_text.data or "",
                logo=logo,
            )
        except DomainError as error:
            db.session.rollback()
            target = form.logo if error.code == "invalid_image" else form.primary_color
            target.errors.append(message_for(error))
        else:
            db.session.commit()
            flash(_("Paramètres enregistrés."), "success")
            return redirect(url_for("backoffice.settings"))
    return render_template("backoffice/settings.html", form=form), 200 if not form.errors else 422


@bp.get("/shops")
@roles_required("admin")
def shop_list():
    rows = db.session.scalars(select(Shop).order_by(Shop.name)).all()
    return render_template("backoffice/shops.html", shops=rows)


@bp.route("/shops/new", methods=["GET", "POST"])
@bp.route("/shops/<int:shop_id>", methods=["GET", "POST"])
@roles_required("admin")
def shop_edit(shop_id: int | None = None):
    shop = db.session.get(Shop, shop_id) if shop_id else None
    if shop_id and shop is None:
        abort(404)
    form = ShopForm(obj=shop)
    if form.validate_on_submit():
        try:
            shops.save_shop(
                db.session,
                shop,
                name=form.name.data,
                slug=form.slug.data,
                category=form.category.data or "",
                address=form.address.data or "",
                postcode=form.postcode.data or "",
            )
        except shops.SlugTaken:
            db.session.rollback()
            form.slug.errors.append(_("Cet identifiant est déjà utilisé par une autre boutique."))
        else:
            db.session.commit()
            flash(_("Boutique enregistrée."), "success")
            return redirect(url_for("backoffice.shop_list"))
    return render_template("backoffice/shop_form.html", form=form, shop=shop), 200 if not form.errors else 422


@bp.route("/staff", methods=["GET", "POST"])
@roles_required("admin")
def staff():
    form = StaffForm()
    shop_rows = db.session.scalars(select(Shop).where(Shop.active).order_by(Shop.name)).all()
    form.shop_id.choices = [SelectChoice(0, "—")] + [SelectChoice(shop.id, shop.name) for shop in shop_rows]
    if form.validate_on_submit():
        shop_id = form.shop_id.data or None
        if form.role.data == "merchant" and not shop_id:
            form.shop_id.errors.append(_("Un commerçant doit être rattaché à une boutique."))
        else:
            try:
                accounts.create_staff(
                    db.session,
                    email=form.email.data,
                    password=form.password.data,
                    role=form.role.data,
                    shop_id=shop_id,
                    display_name=form.display_name.data,
                    now=now(),
                )
            except DomainError as error:
                db.session.rollback()
                field = form.password if error.code == "weak_password" else form.email
                field.errors.append(message_for(error))
            else:
                db.session.commit()
                flash(_("Compte créé."), "success")
                return redirect(url_for("backoffice.staff"))
    members = db.session.scalars(
        select(Account).where(Account.role != "shopper").order_by(Account.role, Account.email)
    ).all()
    return render_template(
        "backoffice/staff.html", form=form, members=members, toggle_form=EmptyForm()
    ), 200 if not form.errors else 422


@bp.post("/staff/<int:account_id>/toggle")
@roles_required("admin")
def staff_toggle(account_id: int):
    account = db.session.get(Account, account_id)
    if account is None or account.role == "shopper":
        abort(404)
    if account.id == current_user.id:
        flash(_("Vous ne pouvez pas désactiver votre propre compte."), "error")
        return redirect(url_for("backoffice.staff"))
    accounts.set_active(db.session, account, not account.active)
    db.session.commit()
    flash(_("Compte réactivé.") if account.active else _("Compte désactivé : ses sessions sont fermées."), "success")
    return redirect(url_for("backoffice.staff"))
