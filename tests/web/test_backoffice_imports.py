"""Importing a shop's customer file and the visit history from the back office: upload, preview
with the column mapping, import, report; the files kept meanwhile; who may import what."""

import html
import io
import os
import re
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.factories import PASSWORD
from webapp.extensions import db
from webapp.messages import IMPORT_REASONS, import_reason
from webapp.models import Customer, CustomerReference, ImportBatch, ReviewItem, Visit

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
CUSTOMERS_CSV = (
    "Nom;Prénom;Courriel;Téléphone;CP;Fidélité n°\r\n"
    "Martin;Jeanne;jeanne.martin@example.org;06 11 22 33 44;69001;A-001\r\n"
    "Roux;Léo;leo.roux@example.org;;69002;A-002\r\n"
)
REFERENCE_COLUMN = 5  # "Fidélité n°": not recognised from its header, set by hand


@pytest.fixture
def app_config(tmp_path):
    return {"FROZEN_NOW": NOW, "IMPORT_DIR": str(tmp_path / "imports")}


@pytest.fixture
def world(make):
    make.union()
    shop_a, shop_b = make.shop(name="Épicerie Alpha", slug="alpha"), make.shop(name="Librairie Bêta", slug="beta")
    elodie = make.customer(first_name="Élodie", last_name="Dupont", email="elodie@example.org", postcode="69004")
    return {
        "shop_a": shop_a,
        "shop_b": shop_b,
        "elodie": elodie,
        "admin": make.staff(role="admin"),
        "organiser": make.staff(role="organiser"),
        "merchant_a": make.staff(role="merchant", shop=shop_a),
        "shopper": make.shopper(),
    }


@pytest.fixture
def admin(app, client, world):
    client.post("/auth/login", data={"email": world["admin"].email, "password": PASSWORD})
    return client


def signed_in(app, account):
    other = app.test_client()
    response = other.post("/auth/login", data={"email": account.email, "password": PASSWORD})
    assert response.status_code == 302
    return other


def uploads(app) -> list[str]:
    folder = Path(app.config["IMPORT_DIR"])
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def post_file(client, url, content: bytes, filename: str, **fields):
    data = {**fields, "file": (io.BytesIO(content), filename)}
    return client.post(url, data=data, content_type="multipart/form-data")


def upload(client, content: bytes, filename: str, kind="customers", **fields) -> str:
    """Send a file; the token of its preview page."""
    response = post_file(client, f"/admin/imports/{kind}", content, filename, **fields)
    assert response.status_code == 302, re.findall(r"class=\"error\"[^>]*>([^<]*)", response.get_data(as_text=True))
    match = re.fullmatch(r"/admin/imports/([A-Za-z0-9_-]{32})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def selected(page: str) -> dict[int, str]:
    """Column number -> the field selected in its select on the preview page."""
    choices = {}
    for number, options in re.findall(r'<select[^>]*name="column_(\d+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', options)
        choices[int(number)] = chosen.group(1) if chosen else ""
    return choices


def run_import(client, token: str, mapping: dict[int, str]):
    """Post the preview's form as a browser does: every column, those not in `mapping` ignored."""
    columns = dict.fromkeys(selected(client.get(f"/admin/imports/{token}").get_data(as_text=True)), "")
    return client.post(
        f"/admin/imports/{token}", data={f"column_{i}": name for i, name in {**columns, **mapping}.items()}
    )


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def report_counts(page: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def listed_lines(page: str, list_start: str) -> list[tuple[int, str]]:
    """The (line, reason) items of the report's list that follows `list_start` (a regex)."""
    block = re.search(list_start + r"(.*?)</ul>", page, re.S)
    if not block:
        return []
    found = re.findall(r'<span class="who">Ligne (\d+)</span><span class="details">(.*?)</span>', block.group(1))
    return [(int(line), html.unescape(reason)) for line, reason in found]


def refused_lines(page: str) -> list[tuple[int, str]]:
    return listed_lines(page, r'data-testid="refused">')


def note_lines(page: str) -> list[tuple[int, str]]:
    return listed_lines(page, r'<h2 id="notes">.*?<ul class="people">')


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Customer files.


def test_customer_file_preview_then_import_with_a_corrected_column(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode("cp1252"), "clients alpha.csv", shop_id=world["shop_a"].id)
    assert uploads(app) == [f"{token}.csv", f"{token}.json"]

    before = (count(Customer), count(ImportBatch), count(CustomerReference))
    preview = admin.get(f"/admin/imports/{token}")
    assert preview.status_code == 200
    page = text_of(preview)
    for header in ("Nom", "Prénom", "Courriel", "Téléphone", "CP", "Fidélité n°"):
        assert f"Colonne « {header} »" in page
    assert "Exemples : jeanne.martin@example.org · leo.roux@example.org" in page
    assert "Épicerie Alpha" in page
    assert "séparateur : point-virgule" in page
    guessed = selected(page)
    assert guessed == {0: "last_name", 1: "first_name", 2: "email", 3: "phone", 4: "postcode", 5: ""}
    assert (count(Customer), count(ImportBatch), count(CustomerReference)) == before  # the preview wrote nothing

    response = run_import(admin, token, {**guessed, REFERENCE_COLUMN: "reference"})
    assert response.status_code == 302
    report = admin.get(response.headers["Location"])
    page = text_of(report)
    assert report_counts(page) == {"created": 2, "matched": 0, "to_review": 0, "rejected": 0, "consents": 0}
    assert "Aucune ligne refusée." in page
    assert "Import terminé." in page

    jeanne = db.session.scalar(select(Customer).where(Customer.email == "jeanne.martin@example.org"))
    assert (jeanne.first_name, jeanne.last_name, jeanne.phone, jeanne.postcode) == (
        "Jeanne",
        "Martin",
        "+33611223344",
        "69001",
    )
    references = db.session.execute(select(CustomerReference.reference, CustomerReference.shop_id)).all()
    assert sorted(references) == [("A-001", world["shop_a"].id), ("A-002", world["shop_a"].id)]
    batch = db.session.scalar(select(ImportBatch))
    assert (batch.filename, batch.shop_id, batch.created_by_id) == (
        "clients alpha.csv",
        world["shop_a"].id,
        world["admin"].id,
    )
    assert uploads(app) == []  # deleted once imported


def test_importing_the_same_file_twice_creates_nobody_twice(app, admin, world):
    mapping = {0: "last_name", 1: "first_name", 2: "email", 3: "phone", 4: "postcode", 5: "reference"}
    for _round in range(2):
        token = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
        report = admin.get(run_import(admin, token, mapping).headers["Location"])
    assert report_counts(text_of(report))["matched"] == 2
    assert report_counts(text_of(report))["created"] == 0
    assert count(Customer) == 3 + 1  # Élodie, the shopper, Jeanne and Léo
    assert count(CustomerReference) == 2
    assert count(ImportBatch) == 2


def test_a_second_click_on_import_imports_nothing_more(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
    mapping = {0: "last_name", 1: "first_name", 2: "email"}
    assert run_import(admin, token, mapping).status_code == 302
    again = run_import(admin, token, mapping)
    assert again.status_code == 302
    assert again.headers["Location"] == "/admin/imports"
    assert "déjà été importé ou abandonné" in text_of(admin.get("/admin/imports"))
    assert count(ImportBatch) == 1


def test_dirty_file_keeps_the_good_rows_and_reports_each_bad_one_by_line_in_french(app, admin, world):
    dirty = (
        "Prénom,Nom,E-mail,Portable,Code postal\n"
        "Jeanne,Martin,jeanne@example.org,,69001\n"
        "Paul,Durand,pas-un-email,,69001\n"
        "\n"
        "Zoé,Petit,zoe@example.org,12,69003\n"
        "Marc,Leroy,marc@example.org,,6900A\n"
        ",,,,69001\n"
        "Inès,Bernard,ines@example.org,0612345678,1000\n"
    )
    token = upload(admin, dirty.encode(), "sale.csv", shop_id=world["shop_a"].id)
    response = run_import(admin, token, selected(text_of(admin.get(f"/admin/imports/{token}"))))
    page = text_of(admin.get(response.headers["Location"]))
    assert report_counts(page)["created"] == 4
    assert report_counts(page)["rejected"] == 2
    assert refused_lines(page) == [
        (3, "adresse e-mail invalide : « pas-un-email »"),
        (7, "ni nom, ni e-mail, ni téléphone : rien n'identifie la personne"),
    ]
    assert note_lines(page) == [  # kept, without the value that is not one
        (5, "numéro de téléphone laissé de côté : « 12 » n'est pas valable"),
        (6, "code postal laissé de côté : « 6900A » n'a pas cinq chiffres"),
    ]
    people = {c.email: (c.phone, c.postcode) for c in db.session.scalars(select(Customer))}
    assert people["zoe@example.org"] == (None, "69003")
    assert people["marc@example.org"] == (None, None)
    assert people["ines@example.org"] == ("+33612345678", "01000")


def test_consent_without_its_date_is_not_recorded_and_the_report_says_so(app, admin, world):
    content = "email;nom;newsletter;date optin\na@example.org;Alpha;oui;02/03/2024\nb@example.org;Beta;oui;\n"
    token = upload(admin, content.encode(), "optin.csv", shop_id=world["shop_a"].id)
    page = text_of(
        admin.get(
            run_import(admin, token, {0: "email", 1: "last_name", 2: "consent_email", 3: "consent_date"}).headers[
                "Location"
            ]
        )
    )
    assert report_counts(page)["consents"] == 1
    assert 'Ligne 3</span><span class="details">accord non enregistré : pas de date d\'accord valable' in page


def test_a_fuzzy_duplicate_goes_to_the_review_queue_linked_from_the_report(app, admin, world):
    content = xlsx(
        [["Nom complet", "CP", "Ville"], ["DUPOND Elodie", "69004", "Lyon"], ["Jeanne Martin", 69001, "Lyon"]]
    )
    token = upload(admin, content, "clients.xlsx", shop_id=world["shop_a"].id)
    page = text_of(admin.get(f"/admin/imports/{token}"))
    assert "Excel (XLSX)" in page
    assert "Exemples : 69004 · 69001" in page
    assert selected(page) == {0: "full_name", 1: "postcode", 2: "town"}
    page = text_of(admin.get(run_import(admin, token, selected(page)).headers["Location"]))
    assert report_counts(page)["to_review"] == 1
    assert 'href="/admin/customers/review"' in page
    assert 'Ligne 2</span><span class="details">« Elodie DUPOND » ~ « Élodie Dupont », 69004' in page
    item = db.session.scalar(select(ReviewItem))
    assert item.candidate_id == world["elodie"].id
    assert "Elodie" in text_of(admin.get("/admin/customers/review"))


def test_a_field_chosen_for_two_columns_is_refused(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
    response = run_import(admin, token, {0: "last_name", 1: "last_name", 2: "email"})
    assert response.status_code == 422
    assert "« Nom » est déjà choisi pour une autre colonne." in text_of(response)
    assert count(ImportBatch) == 0


def test_missing_columns_after_the_mapping_re_render_the_preview_and_change_nothing(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
    customers = count(Customer)
    response = run_import(admin, token, {4: "postcode", 5: "reference"})  # names, email and phone dropped
    assert response.status_code == 422
    page = text_of(response)
    assert "Aucune colonne n'identifie les personnes" in page
    assert selected(page) == {0: "", 1: "", 2: "", 3: "", 4: "postcode", 5: "reference"}  # the choices kept
    assert (count(Customer), count(ImportBatch), count(CustomerReference)) == (customers, 0, 0)
    assert f"{token}.csv" in uploads(app)  # still there, to correct and import
    assert run_import(admin, token, {2: "email", 5: "reference"}).status_code == 302
    assert count(Customer) == customers + 2


@pytest.mark.parametrize(
    "content,filename,message",
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "clients.csv", "n'est pas celui d'un fichier CSV ou Excel"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "clients.xlsx", "n'est pas celui d'un fichier CSV ou Excel"),
        (b"Nom;Email\nA;a@example.org\n", "clients.pdf", "Seuls les fichiers CSV ou Excel (XLSX) sont acceptés."),
        (b"", "clients.csv", "Le fichier est vide."),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "clients.csv",
            "n'est pas celui d'un fichier CSV ou Excel",
        ),
    ],
    ids=["png-named-csv", "pdf-named-xlsx", "pdf-extension", "empty", "old-xls"],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused(app, admin, world, content, filename, message):
    response = post_file(admin, "/admin/imports/customers", content, filename, shop_id=world["shop_a"].id)
    assert response.status_code == 422
    assert message in text_of(response)
    assert uploads(app) == []


def test_a_zip_that_is_not_a_workbook_is_refused(app, admin, world):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("word/document.xml", "<w/>")
    response = post_file(
        admin, "/admin/imports/customers", archive.getvalue(), "clients.xlsx", shop_id=world["shop_a"].id
    )
    assert response.status_code == 422
    assert uploads(app) == []


def test_no_file_or_no_shop_re_renders_the_form(app, admin, world):
    response = admin.post("/admin/imports/customers", data={"shop_id": str(world["shop_a"].id)})
    assert response.status_code == 422
    assert "Choisissez un fichier." in text_of(response)
    response = post_file(admin, "/admin/imports/customers", CUSTOMERS_CSV.encode(), "c.csv", shop_id="")
    assert response.status_code == 422
    assert "Choisissez la boutique dont c'est le fichier." in text_of(response)
    response = post_file(admin, "/admin/imports/customers", CUSTOMERS_CSV.encode(), "c.csv", shop_id="999999")
    assert response.status_code == 422
    assert uploads(app) == []


def test_a_file_over_the_size_limit_gets_a_413_page_in_french(app, admin, world):
    app.config["IMPORT_MAX_BYTES"] = 1024 * 1024
    big = CUSTOMERS_CSV.encode() + b"Martin;Jeanne;jeanne@example.org;;69001;X\r\n" * 30_000
    assert len(big) > 1024 * 1024
    response = post_file(admin, "/admin/imports/customers", big, "gros.csv", shop_id=world["shop_a"].id)
    assert response.status_code == 413
    page = text_of(response)
    assert "Fichier trop lourd" in page
    assert "Le fichier envoyé dépasse la taille permise : 1 Mo au plus." in page
    assert "Traceback" not in page
    assert uploads(app) == []
    small = post_file(admin, "/admin/imports/customers", CUSTOMERS_CSV.encode(), "c.csv", shop_id=world["shop_a"].id)
    assert small.status_code == 302


def test_the_upload_limit_is_its_own_setting_above_the_site_wide_one(app, admin, world):
    assert app.config["IMPORT_MAX_BYTES"] > app.config["MAX_CONTENT_LENGTH"]
    content = CUSTOMERS_CSV.encode() + b"Martin;Jeanne;jeanne@example.org;;69001;X\r\n" * 200_000
    assert app.config["MAX_CONTENT_LENGTH"] < len(content) < app.config["IMPORT_MAX_BYTES"]
    token = upload(admin, content, "gros.csv", shop_id=world["shop_a"].id)
    assert admin.get(f"/admin/imports/{token}").status_code == 200


def test_abandoning_deletes_the_file(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
    response = admin.post(f"/admin/imports/{token}/cancel")
    assert response.headers["Location"] == "/admin/imports/customers"
    assert uploads(app) == []
    gone = admin.get(f"/admin/imports/{token}")
    assert gone.headers["Location"] == "/admin/imports"
    assert count(ImportBatch) == 0


def test_uploads_left_unattended_are_deleted_later(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
    fresh = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
    long_ago = time.time() - 4 * 3600
    for name in uploads(app):
        if name.startswith(token):
            os.utime(Path(app.config["IMPORT_DIR"]) / name, (long_ago, long_ago))
    assert admin.get("/admin/imports/customers").status_code == 200
    assert uploads(app) == [f"{fresh}.csv", f"{fresh}.json"]


def test_the_stored_file_has_a_random_name_never_the_users(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode(), "../../etc/passwd.csv", shop_id=world["shop_a"].id)
    assert uploads(app) == [f"{token}.csv", f"{token}.json"]
    assert "Aperçu : passwd.csv" in text_of(admin.get(f"/admin/imports/{token}"))
    assert admin.get("/admin/imports/..%2F..%2Fetc").status_code == 404


def test_an_upload_is_private_to_whoever_sent_it(app, admin, world, make):
    token = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
    other_admin = signed_in(app, make.staff(role="admin"))
    assert other_admin.get(f"/admin/imports/{token}").status_code == 404
    assert run_import(other_admin, token, {2: "email"}).status_code == 404
    assert other_admin.post(f"/admin/imports/{token}/cancel").status_code == 404
    assert f"{token}.csv" in uploads(app)


# Visit history.

VISITS_CSV = "Client;Jour;Montant TTC\njeanne@example.org;14/06/2026;23,50\nC-77;2026-06-01;0\nC-77;01/06/2026;12.00\n"


def test_visit_history_without_a_shop_is_union_level(app, admin, world):
    token = upload(admin, VISITS_CSV.encode(), "passages.csv", kind="visits", shop_id="")
    before = (count(Visit), count(Customer), count(ImportBatch))
    page = text_of(admin.get(f"/admin/imports/{token}"))
    assert (count(Visit), count(Customer), count(ImportBatch)) == before  # the preview wrote nothing
    assert "Toute l'union" in page
    assert selected(page) == {0: "customer_ref", 1: "date", 2: "amount"}
    report = text_of(admin.get(run_import(admin, token, selected(page)).headers["Location"]))
    assert report_counts(report) == {"created": 3, "matched": 0, "people_created": 2, "rejected": 0}
    shops = db.session.scalars(select(Visit.shop_id)).all()
    assert shops == [None, None, None]

    again = upload(admin, VISITS_CSV.encode(), "passages.csv", kind="visits", shop_id="")
    report = text_of(admin.get(run_import(admin, again, selected(page)).headers["Location"]))
    assert report_counts(report) == {"created": 0, "matched": 3, "people_created": 0, "rejected": 0}
    assert count(Visit) == 3


def test_visit_history_of_one_shop_with_a_corrected_column_and_bad_rows(app, admin, world):
    content = (
        "Carte client,Quand,Total,Caisse\n"
        "R-1,14/06/2026,10\n"
        "R-1,31/02/2026,10\n"
        "R-2,20/06/2026,10\n"
        "R-3,10/06/2026,dix\n"
        "R-4,10/06/2026,5,nulle-part\n"
        ",10/06/2026,5\n"
    )
    token = upload(admin, content.encode(), "caisse.csv", kind="visits", shop_id=str(world["shop_b"].id))
    page = text_of(admin.get(f"/admin/imports/{token}"))
    assert selected(page) == {0: "customer_ref", 1: "", 2: "amount", 3: ""}
    missing = run_import(admin, token, selected(page))
    assert missing.status_code == 422
    assert "Colonnes obligatoires manquantes : Date du passage." in text_of(missing)
    assert count(ImportBatch) == 0

    response = run_import(admin, token, {0: "customer_ref", 1: "date", 2: "amount", 3: "shop"})
    report = text_of(admin.get(response.headers["Location"]))
    assert report_counts(report)["created"] == 1
    assert refused_lines(report) == [
        (3, "date illisible : « 31/02/2026 »"),
        (4, "date dans le futur : « 20/06/2026 »"),
        (5, "montant illisible : « dix »"),
        (6, "boutique inconnue : « nulle-part »"),
        (7, "référence client manquante"),
    ]
    assert db.session.scalars(select(Visit.shop_id)).all() == [world["shop_b"].id]


def test_visit_history_must_be_csv(app, admin, world):
    content = xlsx([["ref", "date", "montant"], ["A", "01/06/2026", 3]])
    response = post_file(admin, "/admin/imports/visits", content, "passages.csv", shop_id="")
    assert response.status_code == 422
    assert "L'historique des passages s'importe en CSV" in text_of(response)
    response = post_file(admin, "/admin/imports/visits", content, "passages.xlsx", shop_id="")
    assert response.status_code == 422
    assert uploads(app) == []


# Who may import what.


def test_a_merchant_imports_only_their_own_shops_customer_file(app, world):
    merchant = signed_in(app, world["merchant_a"])
    page = text_of(merchant.get("/admin/imports/customers"))
    assert "Épicerie Alpha" in page
    assert 'name="shop_id"' not in page  # the shop is fixed
    assert "Librairie Bêta" not in page

    refused = post_file(
        merchant, "/admin/imports/customers", CUSTOMERS_CSV.encode(), "c.csv", shop_id=str(world["shop_b"].id)
    )
    assert refused.status_code == 403
    assert uploads(app) == []

    token = upload(merchant, CUSTOMERS_CSV.encode(), "c.csv")
    response = run_import(merchant, token, {2: "email", 5: "reference"})
    report = text_of(merchant.get(response.headers["Location"]))
    assert report_counts(report)["created"] == 2
    assert db.session.scalar(select(ImportBatch.shop_id)) == world["shop_a"].id
    assert {shop for (shop,) in db.session.execute(select(CustomerReference.shop_id))} == {world["shop_a"].id}
    assert 'href="/admin/customers/review"' not in report


def test_a_merchant_sees_neither_other_shops_imports_nor_visit_history(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode(), "beta.csv", shop_id=world["shop_b"].id)
    report_b = run_import(admin, token, {2: "email"}).headers["Location"]
    visits = upload(admin, VISITS_CSV.encode(), "passages.csv", kind="visits", shop_id=str(world["shop_a"].id))
    report_visits = run_import(admin, visits, {0: "customer_ref", 1: "date", 2: "amount"}).headers["Location"]
    assert admin.get(report_b).status_code == admin.get(report_visits).status_code == 200

    merchant = signed_in(app, world["merchant_a"])
    assert merchant.get(report_b).status_code == 404
    assert merchant.get(report_visits).status_code == 404
    assert merchant.get("/admin/imports/visits").status_code == 403
    assert "beta.csv" not in text_of(merchant.get("/admin/imports"))
    pending = upload(admin, CUSTOMERS_CSV.encode(), "alpha.csv", shop_id=world["shop_a"].id)
    assert merchant.get(f"/admin/imports/{pending}").status_code == 404  # not theirs, even for their shop


@pytest.mark.parametrize("role", ["organiser", "shopper"])
@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/admin/imports"),
        ("get", "/admin/imports/customers"),
        ("post", "/admin/imports/customers"),
        ("get", "/admin/imports/visits"),
        ("post", "/admin/imports/visits"),
        ("get", "/admin/imports/reports/1"),
    ],
)
def test_organisers_and_shoppers_are_refused(app, world, role, method, path):
    client = signed_in(app, world[role])
    assert getattr(client, method)(path).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(app, client, world):
    for path in ("/admin/imports", "/admin/imports/customers", "/admin/imports/visits"):
        assert client.get(path).headers["Location"].startswith("/auth/login")


def test_organiser_cannot_use_an_upload_token(app, admin, world):
    token = upload(admin, CUSTOMERS_CSV.encode(), "clients.csv", shop_id=world["shop_a"].id)
    organiser = signed_in(app, world["organiser"])
    assert organiser.get(f"/admin/imports/{token}").status_code == 403
    assert run_import(organiser, token, {2: "email"}).status_code == 403
    assert count(ImportBatch) == 0


def test_an_upload_without_its_csrf_token_is_refused_and_stores_nothing(app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"email": world["admin"].email, "password": PASSWORD, "csrf_token": token})
    response = post_file(
        client, "/admin/imports/customers", CUSTOMERS_CSV.encode(), "c.csv", shop_id=world["shop_a"].id
    )
    assert response.status_code == 400
    assert uploads(app) == []


# The French wording of every reason the importers give.


REASONS = [
    "invalid email 'x'",
    "invalid phone number '12'",
    "reference over 64 characters",
    "no name, email or phone: nothing identifies the person",
    "this person's data was erased at their request",
    "consent not recorded: no valid consent date",
    "phone number ignored: '12' is not valid",
    "postcode ignored: '6900A' is not five digits",
    "missing customer_ref",
    "customer_ref over 64 characters",
    "missing date",
    "not a date",
    "not a date: '32/01/2026'",
    "date out of range: 1850-01-01",
    "date in the future: '2030-01-01'",
    "missing amount",
    "not an amount",
    "not an amount: 'dix'",
    "negative amount",
    "negative amount: '-3'",
    "more than two decimals: '1,234'",
    "amount above 10000 €: '20000'",
    "unknown shop 'x'",
    "reference 'R-1' belongs to different people in several shops",
]


@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_reads_in_french(app, reason):
    with app.test_request_context():
        french = import_reason(reason)
    assert french != reason
    assert not re.search(r"\b(invalid|missing|not an?|over|unknown|amount|shop|date in)\b", french), french


def test_each_reason_pattern_is_tested_above():
    patterns = [re.compile(pattern) for pattern, _message in IMPORT_REASONS]
    assert [pattern.pattern for pattern in patterns if not any(pattern.fullmatch(reason) for reason in REASONS)] == []
