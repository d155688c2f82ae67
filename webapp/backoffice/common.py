"""Pieces shared by the back-office views: file downloads and GETs that write the audit log."""

import io

from flask import send_file

from webapp.domain import exports
from webapp.extensions import begin_write, db
from webapp.web import now


def download(data: bytes, fmt: str, stem: str):
    return send_file(
        io.BytesIO(data),
        mimetype=exports.MIMETYPES[fmt],
        as_attachment=True,
        download_name=f"{stem}-{now():%Y%m%d}.{fmt}",
    )


def write_on_get() -> None:
    """A GET that writes (the audit log): end the read transaction the sign-in check opened, then
    begin as a writer, so that SQLite waits for its write lock instead of failing on a stale snapshot."""
    db.session.rollback()
    begin_write(db.session)
