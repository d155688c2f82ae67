"""`flask --app webapp import-customers FILE --shop SLUG` and `import-visits FILE [--shop SLUG]`.

Thin: resolve the shop, call the domain import, commit once, print the report.
Exit status is non-zero only when the file cannot be read at all (missing,
not a table, a required column absent) or the shop given does not exist; bad
rows are reported and the good ones are kept.
"""

from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from webapp.domain import shops
from webapp.domain.errors import DomainError
from webapp.extensions import db

MAX_PRINTED_LINES = 50


def _shop_or_fail(slug: str | None):
    if not slug:
        return None
    shop = shops.shop_by_slug(db.session, slug.strip().lower())
    if shop is None:
        raise click.ClickException(f"no shop with slug {slug!r}")
    return shop


def _committed(run_import):
    """Run one import in one transaction: committed whole, or rolled back with a clear message."""
    try:
        report = run_import()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return report


def _print_lines(lines: list[tuple[int, str]], total: int, batch_id: int | None) -> None:
    for line, reason in lines[:MAX_PRINTED_LINES]:
        click.echo(f"  line {line}: {reason}")
    if total > MAX_PRINTED_LINES:
        click.echo(f"  ... and {total - MAX_PRINTED_LINES} more (full list in import batch #{batch_id})")


@click.command("import-visits")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shop", "shop_slug", default=None, help="Shop of rows that name none (default: union-level).")
@with_appcontext
def import_visits_command(file: Path, shop_slug: str | None) -> None:
    """Import visit history from a CSV file: customer_ref,date,amount[,shop][,time]."""
    from webapp.domain.visit_import import import_visits, tidy_after_load

    shop = _shop_or_fail(shop_slug)
    report = _committed(lambda: import_visits(db.session, file, now=datetime.now(UTC), shop=shop, filename=file.name))
    tidy_after_load(db.engine, report.imported)
    click.echo(
        f"{file.name}: {report.rows} rows; {report.imported} visits imported, "
        f"{report.already_imported} already imported before (skipped), "
        f"{report.people_created} people created, {report.rejected} rows rejected."
    )
    _print_lines(report.problems, report.rejected, report.batch_id)


@click.command("import-customers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shop", "shop_slug", required=True, help="The shop whose customer file this is.")
@with_appcontext
def import_customers_command(file: Path, shop_slug: str) -> None:
    """Import a shop's customer file (CSV or XLSX) into the shared file, with duplicates detected."""
    from webapp.domain.customer_import import import_customers, notes_of

    shop = _shop_or_fail(shop_slug)
    report = _committed(
        lambda: import_customers(db.session, file, shop=shop, now=datetime.now(UTC), filename=file.name)
    )
    click.echo(
        f"{file.name}: {report.rows} rows; {report.created} people created, {report.matched} matched, "
        f"{report.to_review} to review, {report.rejected} rejected; {report.consents} consents recorded."
    )
    click.echo("Columns: " + ", ".join(f"{name} <- {header!r}" for name, header in report.columns.items()))
    notable = [
        (o.line, f"{o.outcome}: {o.reason}")
        for o in report.outcomes
        if o.outcome in ("rejected", "to_review") or notes_of(o.reason)
    ]
    _print_lines(notable, len(notable), report.batch_id)


def init_app(app) -> None:
    app.cli.add_command(import_visits_command)
    app.cli.add_command(import_customers_command)
