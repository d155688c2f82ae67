"""Command-line interface: create-admin, api-key create, demo."""

from sqlalchemy import func, select

from webapp.domain import apikeys
from webapp.extensions import db
from webapp.models import Account, Card, Customer, Shop, Visit


def test_create_admin(runner):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "Boss@Example.org",
            "--password",
            "pentes croix rousse soierie",
            "--name",
            "Nadia",
        ]
    )
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(Account))
    assert (admin.email, admin.role) == ("boss@example.org", "admin")
    again = runner.invoke(
        args=["create-admin", "--email", "boss@example.org", "--password", "pentes croix rousse soierie"]
    )
    assert again.exit_code != 0 and "email_taken" in again.output
    weak = runner.invoke(args=["create-admin", "--email", "b2@example.org", "--password", "password"])
    assert weak.exit_code != 0 and "weak_password" in weak.output
    assert db.session.scalar(select(func.count(Account.id))) == 1


def test_api_key_create_prints_a_working_key_stored_hashed(runner, make):
    shop = make.shop(slug="fromagerie")
    result = runner.invoke(args=["api-key", "create", "fromagerie"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("qk_") and len(secret) > 40
    assert apikeys.key_owner(db.session, secret) == (shop.id, True)
    from webapp.models import ApiKey

    assert secret not in db.session.scalar(select(ApiKey.key_hash))
    unknown = runner.invoke(args=["api-key", "create", "nope"])
    assert unknown.exit_code != 0 and "no shop" in unknown.output


def test_demo_builds_a_believable_union_once(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "quartier-demo-2026" in result.output and "camille@demo.quartier.fr" in result.output
    assert db.session.scalar(select(func.count(Shop.id))) == 8
    assert db.session.scalar(select(func.count(Customer.id))) == 200
    assert db.session.scalar(select(func.count(Card.id))) == 200
    shops_visited = db.session.scalar(select(func.count(func.distinct(Visit.shop_id))))
    first, last = db.session.execute(select(func.min(Visit.visited_at), func.max(Visit.visited_at))).one()
    assert shops_visited == 8 and db.session.scalar(select(func.count(Visit.id))) > 3000
    assert 300 <= (last - first).days <= 366
    merchants = db.session.scalar(select(func.count(Account.id)).where(Account.role == "merchant"))
    assert merchants == 8
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "already" in again.output
    assert db.session.scalar(select(func.count(Shop.id))) == 8
