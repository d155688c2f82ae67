"""The back office on a small phone: an admin imports a shop's customer file (XLSX) and corrects one
column in the preview, settles the probable duplicate it raised, imports the shop's visit history,
refreshes the RFM profiles and finds the imported person in a segment; then the shop's merchant
signs in and sees their own shop only. Every new page: no sideways scrolling, no axe violation."""

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.e2e.support import axe_violations, collect_errors, layout_width, sign_in
from tests.factories import PASSWORD
from webapp.extensions import db

NARROW = {"viewport": {"width": 360, "height": 740}}
pytestmark = [pytest.mark.e2e, pytest.mark.browser_context_args(**NARROW)]


@dataclass(frozen=True)
class Office:
    admin_email: str
    merchant_email: str
    shop_a_id: int
    shop_b_id: int
    bruno_id: int


@pytest.fixture
def office(live, make, tmp_path) -> Office:
    """Two shops; Élodie is a customer of the first one, Bruno of the second; an admin, a merchant of the first."""
    folder = live.app.config["IMPORT_DIR"]
    live.app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    shop_a = make.shop(name="Épicerie du Marché", slug="epicerie-du-marche")
    shop_b = make.shop(name="Librairie des Pentes", slug="librairie-des-pentes")
    elodie = make.customer(first_name="Élodie", last_name="Dupont", email="elodie.dupont@example.org", postcode="69004")
    bruno = make.customer(first_name="Bruno", last_name="Lefèvre", email="bruno@example.org", postcode="69001")
    now = datetime.now(UTC)
    make.visit(make.card(elodie), shop_a, 2000, now - timedelta(days=30))
    make.visit(make.card(bruno), shop_b, 1500, now - timedelta(days=10))
    office = Office(
        admin_email=make.staff(role="admin").email,
        merchant_email=make.staff(shop=shop_a).email,
        shop_a_id=shop_a.id,
        shop_b_id=shop_b.id,
        bruno_id=bruno.id,
    )
    db.session.rollback()  # end the read transaction: SQLite would keep the live server waiting
    yield office
    live.app.config["IMPORT_DIR"] = folder


def customer_file(path) -> str:
    """The shop's file: its member number column is not recognised by its title."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Nom", "Prénom", "Courriel", "CP", "Fidélité n°"])
    sheet.append(["Dupond", "Elodie", None, "69004", "EP-001"])
    sheet.append(["Martin", "Jeanne", "jeanne.martin@example.org", "69001", "EP-002"])
    sheet.append(["Leroy", "Marc", "pas-une-adresse", "69002", "EP-003"])
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return str(path)


def visit_file(path) -> str:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    rows = [
        ("EP-002", today - timedelta(days=days), amount) for days, amount in ((1, "45,00"), (3, "38,50"), (7, "52"))
    ]
    path.write_text("ref;date;montant\n" + "".join(f"{ref};{day:%d/%m/%Y};{amount}\n" for ref, day, amount in rows))
    return str(path)


def problems_here(page) -> list[str]:
    """Problems of the page on screen: HTTP error page, horizontal overflow, axe violations."""
    width = layout_width(page)
    problems = []
    if width["innerWidth"] != NARROW["viewport"]["width"] or width["scrollWidth"] > width["innerWidth"]:
        problems.append(f"horizontal overflow: {width}")
    problems += axe_violations(page)
    return [f"{page.url} {problem}" for problem in problems]


def test_admin_imports_settles_refreshes_and_the_merchant_sees_only_their_shop(live, office, page, tmp_path):
    errors = collect_errors(page)
    problems = []
    sign_in(page, office.admin_email, PASSWORD)

    # The customer file of the Épicerie, from the back office's home.
    page.goto("/admin/")
    page.get_by_role("link", name="Importer le fichier clients d'une boutique").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer un fichier clients")
    problems += problems_here(page)
    page.get_by_label("Boutique dont c'est le fichier").select_option(label="Épicerie du Marché")
    page.get_by_label("Fichier clients (CSV ou Excel XLSX)").set_input_files(customer_file(tmp_path / "adherents.xlsx"))
    page.get_by_role("button", name="Voir l'aperçu").click()

    # The preview: every column with its values and its field; the member number needs correcting.
    expect(page.get_by_role("heading", level=1)).to_have_text("Aperçu : adherents.xlsx")
    expect(page.get_by_label("Colonne « Courriel »")).to_have_value("email")
    expect(page.get_by_text("Exemples : jeanne.martin@example.org · pas-une-adresse")).to_be_visible()
    member_number = page.get_by_label("Colonne « Fidélité n° »")
    expect(member_number).to_have_value("")
    problems += problems_here(page)
    member_number.select_option(label="Référence client de la boutique")
    page.get_by_role("button", name="Importer", exact=True).click()

    # The report: counts, the refused line, the way to the review queue.
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu : adherents.xlsx")
    counts = page.get_by_test_id("counts")
    expect(counts.locator("[data-count=created]")).to_have_text("1")  # Jeanne; Elodie is counted for review
    expect(counts.locator("[data-count=to_review]")).to_have_text("1")
    expect(counts.locator("[data-count=rejected]")).to_have_text("1")
    refused = page.get_by_test_id("refused").locator("li")
    expect(refused).to_have_count(1)
    expect(refused).to_have_text("Ligne 4adresse e-mail invalide : « pas-une-adresse »")
    problems += problems_here(page)

    # The probable duplicate: the imported Elodie Dupond is the Élodie Dupont already known.
    page.get_by_role("link", name="Vérifier les doublons probables").click()
    item = page.locator(".review li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Elodie Dupond")
    expect(item).to_contain_text("Élodie Dupont")
    item.get_by_role("button", name="Même personne").click()
    expect(page.locator(".flash-success")).to_contain_text("Fiches fusionnées")
    expect(page.locator(".review li")).to_have_count(0)

    # The shop's visit history, by its member numbers.
    page.goto("/admin/")
    page.get_by_role("link", name="Importer un historique de passages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer un historique de passages")
    problems += problems_here(page)
    page.get_by_label("Boutique", exact=True).select_option(label="Épicerie du Marché")
    page.get_by_label("Historique des passages (CSV)").set_input_files(visit_file(tmp_path / "passages.csv"))
    page.get_by_role("button", name="Voir l'aperçu").click()
    expect(page.get_by_label("Colonne « ref »")).to_have_value("customer_ref")
    expect(page.get_by_label("Colonne « montant »")).to_have_value("amount")
    problems += problems_here(page)
    page.get_by_role("button", name="Importer", exact=True).click()
    expect(page.get_by_test_id("counts").locator("[data-count=created]")).to_have_text("3")
    problems += problems_here(page)
    page.get_by_role("link", name="← Imports").click()
    expect(page.locator(".people li")).to_have_count(2)
    problems += problems_here(page)

    # RFM, refreshed from the dashboard: Jeanne, recent, frequent and the best spender, is a champion.
    page.goto("/admin/dashboards")
    page.get_by_role("button", name="Recalculer maintenant").click()
    expect(page.locator(".flash-success")).to_contain_text("Profils RFM recalculés", timeout=60_000)
    page.get_by_role("link", name="Champions", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Champions")
    champion = page.locator(".people li")
    expect(champion).to_have_count(1)
    expect(champion.locator(".who")).to_have_text("Jeanne Martin")
    expect(champion).to_contain_text("3 passages")

    page.get_by_role("button", name="Déconnexion").click()

    # The Épicerie's merchant: their customers, their imports; nothing of the other shop, no whole file.
    sign_in(page, office.merchant_email, PASSWORD)
    page.get_by_role("link", name="Mes clients").click()
    page.get_by_label("Nom, e-mail, téléphone, numéro de carte ou code postal").fill("Jeanne")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator(".people li")).to_have_count(1)
    expect(page.locator(".people li .who")).to_have_text("Jeanne Martin")
    page.get_by_label("Nom, e-mail, téléphone, numéro de carte ou code postal").fill("Bruno")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("main [role=status]")).to_have_text(re.compile(r"^0 personnes?$"))
    expect(page.locator(".people li")).to_have_count(0)
    assert page.goto(f"/admin/customers/{office.bruno_id}").status == 404
    for refused_path in ("/admin/", "/admin/customers/review", "/admin/prospects", "/admin/imports/visits"):
        assert page.goto(refused_path).status == 403, refused_path
    page.goto(f"/admin/dashboards?shop={office.shop_b_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Épicerie du Marché")

    page.goto("/admin/customers")
    page.get_by_role("link", name="Importer le fichier clients de ma boutique").click()
    expect(page.locator(".people li")).to_have_count(1)  # the Épicerie's customer file, not its visits
    expect(page.locator(".people li .who")).to_have_text("adherents.xlsx")
    problems += problems_here(page)
    page.get_by_role("link", name="Importer un fichier clients").click()
    expect(page.get_by_text("Boutique : Épicerie du Marché")).to_be_visible()
    expect(page.locator("select[name=shop_id]")).to_have_count(0)
    problems += problems_here(page)
    page.get_by_role("link", name="← Imports").click()
    page.get_by_role("link", name="adherents.xlsx").click()
    expect(page.get_by_text("L'union vérifiera ces fiches")).to_be_visible()
    problems += problems_here(page)

    assert not problems, "\n" + "\n".join(problems)
    assert [error for error in errors if "404" not in error and "403" not in error] == []
    assert not any((tmp_path / "imports").iterdir())  # every uploaded file deleted once imported
