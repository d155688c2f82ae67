"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from webapp.extensions import db


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_exactly_once_is_enforced_by_a_unique_index(app):
    uniques = inspect(db.engine).get_unique_constraints("visit")
    indexes = inspect(db.engine).get_indexes("visit")
    unique_columns = [c["column_names"] for c in uniques] + [i["column_names"] for i in indexes if i["unique"]]
    assert ["idempotency_key"] in unique_columns
