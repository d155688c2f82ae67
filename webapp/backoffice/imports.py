"""Importing a shop's customer file and the visit history from the back office.

The same domain functions as `flask import-customers` and `import-visits`, in four steps:

1. Upload. An admin picks the shop (a merchant imports only their own shop's customer file)
   and the file. It is stored under IMPORT_DIR with a random name (the name the user gave is
   only displayed), within IMPORT_MAX_BYTES (a 413 page beyond), and must be CSV or XLSX by
   its content as well as by its name (the visit history: CSV only, as on the command line).
2. Preview. Each column's header, a few values and the field guessed from the header, in a
   select the user may correct. Nothing is written to the database.
3. Import. The domain import with that mapping, committed once; the file is then deleted.
   The file is claimed by renaming it first, so a second click cannot import it twice.
4. Report. Read back from the ImportBatch row: counts, and each refused row with its line.

An upload belongs to whoever sent it. It is deleted after its import, by its "Abandon"
button, or ABANDONED_AFTER later (swept whenever someone uploads or previews a file).
Organisers do not import; visit history is for admins only.
"""

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.auth.forms import EmptyForm
from webapp.backoffice import bp, merchant_allowed
from webapp.backoffice.import_forms import (
    CUSTOMER_FIELD_LABELS,
    IGNORE,
    NO_SHOP,
    VISIT_FIELD_LABELS,
    CustomerUploadForm,
    VisitUploadForm,
    mapping_form,
)
from webapp.domain import imports
from webapp.domain.customer_import import import_customers, report_sections
from webapp.domain.errors import DomainError
from webapp.domain.visit_import import import_visits, tidy_after_load
from webapp.extensions import db
from webapp.messages import import_file_message, import_reason
from webapp.models import ImportBatch, Shop
from webapp.security import roles_required
from webapp.web import now

ABANDONED_AFTER = 3 * 3600  # seconds
SAMPLE_ROWS = 5
SAMPLE_CHARS = 60
SHOWN_LINES = 500
RECENT_BATCHES = 30
UPLOAD_ENDPOINTS = frozenset({"backoffice.import_customers_upload", "backoffice.import_visits_upload"})
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Kind:
    fields: dict
    labels: dict
    upload_endpoint: str
    file_kinds: tuple[str, ...]


KINDS = {
    "customers": Kind(
        imports.CUSTOMER_FIELDS, CUSTOMER_FIELD_LABELS, "backoffice.import_customers_upload", ("csv", "xlsx")
    ),
    "visits": Kind(imports.VISIT_FIELDS, VISIT_FIELD_LABELS, "backoffice.import_visits_upload", ("csv",)),
}


@bp.url_value_preprocessor
def import_size_limit(endpoint, values):
    """Uploads have their own size limit, set before the CSRF check reads the request body."""
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]


# Where uploads wait between the upload and the import.


class Refused(Exception):
    """An upload that cannot be imported; the message is for the user."""


@dataclass(frozen=True)
class Upload:
    token: str
    kind: str  # customers | visits
    shop_id: int | None
    filename: str
    owner_id: int
    file_kind: str  # csv | xlsx: the stored file's extension (openpyxl reads nothing else)

    @property
    def path(self) -> Path:
        return upload_dir() / f"{self.token}.{self.file_kind}"


def upload_dir() -> Path:
    folder = Path(current_app.config["IMPORT_DIR"])
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def discard(token: str) -> None:
    """Delete an upload's files (the file, its description, a claimed copy)."""
    for path in upload_dir().glob(f"{token}.*"):
        path.unlink(missing_ok=True)


def sweep() -> None:
    """Delete the uploads nobody imported nor abandoned in time (the folder holds nothing else)."""
    oldest = time.time() - ABANDONED_AFTER
    for path in upload_dir().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < oldest:
                path.unlink()
        except FileNotFoundError:
            continue


def display_name(raw: str | None) -> str:
    """The name the user's file had, for display and the import's record only (never a path)."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    return name[:200] or "fichier"


def store(file, kind: str, shop_id: int | None) -> Upload:
    """Save the uploaded file under a random name and check that it can be read; Refused if not."""
    token = secrets.token_urlsafe(24)
    part = upload_dir() / f"{token}.part"
    try:
        file.save(part)
        upload = Upload(token, kind, shop_id, display_name(file.filename), current_user.id, file_kind(part, kind))
        part.rename(upload.path)
        check_readable(upload)
        meta = {"kind": kind, "shop_id": shop_id, "filename": upload.filename, "owner_id": upload.owner_id}
        meta["file_kind"] = upload.file_kind
        (upload_dir() / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    except BaseException:
        discard(token)
        raise
    return upload


def file_kind(path: Path, kind: str) -> str:
    """CSV or XLSX by the content, whatever the file's name says; Refused for anything else."""
    if path.stat().st_size == 0:
        raise Refused(_("Le fichier est vide."))
    found = imports.detect_kind(path)
    if found not in KINDS[kind].file_kinds:
        if found == "xlsx":
            raise Refused(_("L'historique des passages s'importe en CSV : enregistrez ce classeur au format CSV."))
        raise Refused(_("Le contenu de ce fichier n'est pas celui d'un fichier CSV ou Excel (XLSX)."))
    return found


def check_readable(upload: Upload) -> None:
    try:
        preview = imports.preview_columns(upload.path, KINDS[upload.kind].fields, sample_rows=1)
    except DomainError as error:
        raise Refused(import_file_message(error)) from error
    if not any(preview.headers):
        raise Refused(_("La première ligne du fichier doit donner le titre de chaque colonne."))


def load_upload(token: str) -> Upload | None:
    """The upload named in the URL: None when it is gone (imported, abandoned), 404 if it is not the user's."""
    if not _TOKEN.match(token):
        abort(404)
    try:
        meta = json.loads((upload_dir() / f"{token}.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    upload = Upload(token, meta["kind"], meta["shop_id"], meta["filename"], meta["owner_id"], meta["file_kind"])
    if upload.owner_id != current_user.id:
        abort(404)
    if upload.kind == "visits" and current_user.role != "admin":
        abort(403)
    if is_merchant() and upload.shop_id != current_user.shop_id:
        abort(404)
    return upload


def gone():
    flash(_("Ce fichier n'est plus là : il a déjà été importé ou abandonné. Envoyez-le à nouveau."), "error")
    return redirect(url_for("backoffice.import_home"))


# Who imports what.


def is_merchant() -> bool:
    return current_user.role == "merchant"


def own_shop() -> Shop:
    shop = db.session.get(Shop, current_user.shop_id) if current_user.shop_id else None
    if shop is None:
        abort(403)
    return shop


def active_shops() -> list[tuple[int, str]]:
    return db.session.execute(select(Shop.id, Shop.name).where(Shop.active).order_by(Shop.name, Shop.id)).all()


# 1. Upload.


@bp.get("/imports")
@merchant_allowed
@roles_required("admin", "merchant")
def import_home():
    columns = (
        ImportBatch.id,
        ImportBatch.kind,
        ImportBatch.filename,
        ImportBatch.created_at,
        ImportBatch.created,
        ImportBatch.matched,
        ImportBatch.to_review,
        ImportBatch.rejected,
        Shop.name,
    )
    query = select(*columns).outerjoin(Shop, Shop.id == ImportBatch.shop_id)
    if is_merchant():
        query = query.where(ImportBatch.kind == "customers", ImportBatch.shop_id == own_shop().id)
    batches = db.session.execute(query.order_by(ImportBatch.id.desc()).limit(RECENT_BATCHES)).all()
    return render_template("backoffice/import_home.html", batches=batches)


@bp.route("/imports/customers", methods=["GET", "POST"])
@merchant_allowed
@roles_required("admin", "merchant")
def import_customers_upload():
    form = CustomerUploadForm()
    shop = None
    if is_merchant():
        shop = own_shop()
        posted = request.form.get("shop_id")
        if posted and posted != str(shop.id):
            abort(403)
        del form.shop_id
    else:
        choose = SelectChoice("", _("— Choisissez la boutique —"))
        form.shop_id.choices = [choose] + [SelectChoice(str(shop_id), name) for shop_id, name in active_shops()]
    return upload_step(form, "customers", shop)


@bp.route("/imports/visits", methods=["GET", "POST"])
@roles_required("admin")
def import_visits_upload():
    form = VisitUploadForm()
    none = SelectChoice(NO_SHOP, _("Aucune : historique de toute l'union (ou boutique donnée par le fichier)"))
    form.shop_id.choices = [none] + [SelectChoice(str(shop_id), name) for shop_id, name in active_shops()]
    return upload_step(form, "visits", None)


def upload_step(form, kind: str, shop: Shop | None):
    sweep()
    if form.validate_on_submit():
        shop_id = shop.id if shop is not None else (int(form.shop_id.data) if form.shop_id.data else None)
        try:
            upload = store(form.file.data, kind, shop_id)
        except Refused as refusal:
            form.file.errors.append(str(refusal))
        else:
            return redirect(url_for("backoffice.import_preview", token=upload.token))
    limit = format_decimal(round(current_app.config["IMPORT_MAX_BYTES"] / 1024 / 1024, 1))
    page = render_template(f"backoffice/import_{kind}.html", form=form, shop=shop, limit=limit)
    return page, 422 if form.errors else 200


# 2 and 3. Preview, then import.


@bp.route("/imports/<token>", methods=["GET", "POST"])
@merchant_allowed
@roles_required("admin", "merchant")
def import_preview(token: str):
    if request.method == "GET":
        sweep()
    upload = load_upload(token)
    if upload is None or not upload.path.exists():
        return gone()
    kind = KINDS[upload.kind]
    try:
        preview = imports.preview_columns(upload.path, kind.fields, sample_rows=SAMPLE_ROWS)
    except DomainError as error:
        discard(upload.token)
        flash(import_file_message(error), "error")
        return redirect(url_for(kind.upload_endpoint))
    form = mapping_form(preview.headers, kind.labels, preview.mapping)
    problem = None
    if form.validate_on_submit():
        chosen = chosen_mapping(form, kind)
        if chosen is not None:
            override = {name: chosen.get(name) for name in kind.fields}
            try:
                batch_id = run_import(upload, override)
            except DomainError as error:
                problem = import_problem(error, kind)
            else:
                if batch_id is None:
                    return gone()
                flash(_("Import terminé."), "success")
                return redirect(url_for("backoffice.import_report", batch_id=batch_id))
    shop = db.session.get(Shop, upload.shop_id) if upload.shop_id else None
    samples = [
        [truncate(imports.text(imports.cell(cells, index))) for _line, cells in preview.sample]
        for index in range(len(preview.headers))
    ]
    page = render_template(
        "backoffice/import_preview.html",
        upload=upload,
        shop=shop,
        preview=preview,
        samples=samples,
        form=form,
        cancel_form=EmptyForm(),
        problem=problem,
    )
    return page, 422 if request.method == "POST" else 200


def chosen_mapping(form, kind: Kind) -> dict[str, int] | None:
    """Field -> column from the selects; None (with the error on the select) if a field is chosen twice."""
    chosen: dict[str, int] = {}
    for index, select_field in enumerate(form.columns()):
        name = select_field.data
        if name == IGNORE:
            continue
        if name in chosen:
            select_field.errors.append(
                _("« %(field)s » est déjà choisi pour une autre colonne.", field=kind.labels[name])
            )
            return None
        chosen[name] = index
    return chosen


def run_import(upload: Upload, override: dict) -> int | None:
    """Import the claimed file and commit; the batch id, or None if someone else claimed it first."""
    claimed = upload_dir() / f"{upload.token}.claimed.{upload.file_kind}"
    try:
        os.rename(upload.path, claimed)
    except FileNotFoundError:
        return None
    done = False
    try:
        shop = db.session.get(Shop, upload.shop_id) if upload.shop_id else None
        options = {"now": now(), "mapping": override, "filename": upload.filename, "created_by_id": current_user.id}
        if upload.kind == "customers":
            report = import_customers(db.session, claimed, shop=shop, **options)
        else:
            report = import_visits(db.session, claimed, shop=shop, **options)
        db.session.commit()
        done = True
        if upload.kind == "visits":
            tidy_after_load(db.engine, report.imported)
    finally:
        if done:
            discard(upload.token)
        else:
            db.session.rollback()
            claimed.rename(upload.path)  # the user may correct the mapping and try again
    return report.batch_id


def import_problem(error: DomainError, kind: Kind) -> str:
    if isinstance(error, imports.MissingColumns):
        if kind is KINDS["customers"]:
            return _(
                "Aucune colonne n'identifie les personnes : choisissez au moins l'e-mail, le téléphone, "
                "le nom, le prénom ou le nom complet."
            )
        missing = ", ".join(str(kind.labels.get(name, name)) for name in error.missing)
        return _("Colonnes obligatoires manquantes : %(fields)s.", fields=missing)
    return import_file_message(error)


def truncate(value: str) -> str:
    return value if len(value) <= SAMPLE_CHARS else value[: SAMPLE_CHARS - 1] + "…"


@bp.post("/imports/<token>/cancel")
@merchant_allowed
@roles_required("admin", "merchant")
def import_cancel(token: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    upload = load_upload(token)
    if upload is None:
        return gone()
    discard(upload.token)
    flash(_("Import abandonné : le fichier a été supprimé."), "success")
    return redirect(url_for(KINDS[upload.kind].upload_endpoint))


# 4. The report.


@bp.get("/imports/reports/<int:batch_id>")
@merchant_allowed
@roles_required("admin", "merchant")
def import_report(batch_id: int):
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or (is_merchant() and (batch.kind != "customers" or batch.shop_id != own_shop().id)):
        abort(404)
    report = batch.report or {}
    if batch.kind == "customers":
        refused, reviews, notes = report_sections(report.get("lines", []))
    else:
        refused, reviews, notes = [(row["line"], row["reason"]) for row in report.get("problems", [])], [], []
    refused = [(line, import_reason(reason)) for line, reason in refused]
    notes = [(line, import_reason(note)) for line, note in notes]
    shop = db.session.get(Shop, batch.shop_id) if batch.shop_id else None
    return render_template(
        "backoffice/import_report.html",
        batch=batch,
        report=report,
        shop=shop,
        refused=refused[:SHOWN_LINES],
        reviews=reviews[:SHOWN_LINES],
        notes=notes[:SHOWN_LINES],
        unlisted=batch.rejected - min(len(refused), SHOWN_LINES),
    )
