"""Command-line interface: `flask --app webapp <command>`."""

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from webapp import cli_contests, cli_imports
from webapp.domain import accounts, apikeys, branding, rfm, shops
from webapp.domain.errors import DomainError
from webapp.extensions import db

api_key_cli = AppGroup("api-key", help="API keys of shops' tills.")
rfm_cli = AppGroup("rfm", help="RFM profiles (recency, frequency, monetary).")


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


def _rfm_scope(as_of: datetime | None, shop_slug: str | None, window_start: datetime | None) -> rfm.Scope:
    union = branding.get_union(db.session)
    shop_id = None
    if shop_slug:
        shop = shops.shop_by_slug(db.session, shop_slug)
        if shop is None:
            raise click.ClickException(f"no shop with slug {shop_slug!r}")
        shop_id = shop.id
    today = datetime.now(ZoneInfo(union.timezone)).date()
    return rfm.Scope(
        as_of=as_of.date() if as_of else today,
        timezone=union.timezone,
        shop_id=shop_id,
        window_start=window_start.date() if window_start else None,
    )


_AS_OF = click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Date of the analysis (default today).")
_SHOP = click.option("--shop", "shop_slug", help="One shop's own visits (default: the whole union).")
_WINDOW = click.option("--window-start", type=click.DateTime(["%Y-%m-%d"]), help="First day of the analysis window.")


@rfm_cli.command("refresh")
@_AS_OF
@_SHOP
@_WINDOW
def rfm_refresh(as_of, shop_slug, window_start) -> None:
    """Compute and store an RFM snapshot."""
    scope = _rfm_scope(as_of, shop_slug, window_start)
    started = time.perf_counter()
    snapshot = rfm.refresh(db.session, scope, now=datetime.now(UTC))
    db.session.commit()
    click.echo(
        f"RFM snapshot {snapshot.id} as of {scope.as_of}: {snapshot.people} people "
        f"({time.perf_counter() - started:.2f} s)"
    )


@rfm_cli.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8", lazy=True))
@_AS_OF
@_SHOP
@_WINDOW
def rfm_export(file, as_of, shop_slug, window_start) -> None:
    """Write FILE (CSV; - for standard output) with one line per customer."""
    scope = _rfm_scope(as_of, shop_slug, window_start)
    snapshot = rfm.refresh(db.session, scope, now=datetime.now(UTC))
    db.session.commit()
    count = rfm.export_csv(db.session, snapshot.id, file)
    if file.name not in ("-", "<stdout>"):
        click.echo(f"{count} customers written to {file.name}")


def init_app(app) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(api_key_cli)
    app.cli.add_command(demo)
    app.cli.add_command(rfm_cli)
    cli_imports.init_app(app)
    cli_contests.init_app(app)
