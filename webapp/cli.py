"""Command-line interface: `flask --app webapp <command>`."""

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.domain import accounts, apikeys, shops
from webapp.domain.errors import DomainError
from webapp.extensions import db

api_key_cli = AppGroup("api-key", help="API keys of shops' tills.")


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="", help="Display name.")
def create_admin(email: str, password: str, name: str) -> None:
    """Create an administrator account for a real installation."""
    try:
        accounts.create_staff(
            db.session, email=email, password=password, role="admin", display_name=name, now=datetime.now(UTC)
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.code}: {error}") from error
    db.session.commit()
    click.echo(f"Administrator {email} created.")


@api_key_cli.command("create")
@click.argument("shop_slug")
@click.option("--label", default="till", help="A name to recognise the key by.")
def api_key_create(shop_slug: str, label: str) -> None:
    """Print a new API key for SHOP_SLUG (shown once, stored hashed)."""
    shop = shops.shop_by_slug(db.session, shop_slug)
    if shop is None:
        raise click.ClickException(f"no shop with slug {shop_slug!r}")
    _key, secret = apikeys.create_api_key(db.session, shop.id, label, datetime.now(UTC))
    db.session.commit()
    click.echo(secret)


@click.command("demo")
@click.option("--seed", default=2026, show_default=True, help="Random seed.")
def demo(seed: int) -> None:
    """Load a believable demo union in Lyon and print the demo logins."""
    from webapp.domain import demo as demo_data

    created = demo_data.load_demo(db.session, seed=seed, now=datetime.now(UTC))
    db.session.commit()
    if not created:
        click.echo("Demo data already loaded.")
    click.echo(demo_data.logins_text(current_app.config["BASE_URL"]))


def init_app(app) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(api_key_cli)
    app.cli.add_command(demo)
