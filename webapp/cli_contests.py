"""`flask --app webapp contests verify-draw ID`: recompute a contest's draw from its published data.

Prints the report; exits 0 when the published winners are those the seed and the frozen list
give, 1 otherwise (tampered seed, list or winners, or no draw yet).
"""

import click
from flask.cli import AppGroup

from webapp.domain import draws
from webapp.extensions import db

contests_cli = AppGroup("contests", help="Contests (jeux-concours).")


@contests_cli.command("verify-draw")
@click.argument("contest_id", type=int)
@click.pass_context
def verify_draw_command(ctx: click.Context, contest_id: int) -> None:
    """Check the draw of contest CONTEST_ID: seed against commitment, frozen list against its hash, winners."""
    report = draws.verify_draw(db.session, contest_id)
    db.session.rollback()
    click.echo(report.text())
    ctx.exit(0 if report.ok else 1)


def init_app(app) -> None:
    app.cli.add_command(contests_cli)
