"""Dashboard pages: they render for the office, merchants are held to their own shop, exports are
audited, targets are saved, zone residents are edited by admins only."""

import html
import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from webapp import tasks
from webapp.domain import rfm
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    RfmCrossShop,
    RfmRefresh,
    RfmScore,
    RfmSnapshot,
    SavedTarget,
    SavedTargetMember,
    Visit,
    ZonePostcode,
)

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
AS_OF = date(2026, 6, 15)


@pytest.fixture
def app_config():
    return {"FROZEN_NOW": NOW}


@pytest.fixture
def union(make):
    """Shops A and B; six customers visit A, three of them B too, one only B; snapshots of
    the union and of each shop at two dates."""
    make.union()
    shop_a, shop_b = make.shop(name="Épicerie Alpha"), make.shop(name="Boulangerie Bêta")
    people = [make.customer(first_name=f"Client{i}", last_name=f"Nom{i}") for i in range(7)]
    rows = []
    for i, person in enumerate(people[:6]):
        for k in range(i + 1):
            rows.append((person, shop_a, 1000 * (i + 1), datetime(2026, 5, 1 + k + i, 12, tzinfo=UTC)))
    for person in people[:3] + people[6:]:
        rows.append((person, shop_b, 2500, datetime(2026, 4, 20, 12, tzinfo=UTC)))
    db.session.execute(
        insert(Visit),
        [
            {
                "customer_id": person.id,
                "shop_id": shop.id,
                "amount_cents": cents,
                "points": 0,
                "visited_at": when,
                "source": "import",
                "created_at": when,
            }
            for person, shop, cents, when in rows
        ],
    )
    snapshots = {}
    for as_of in (date(2026, 5, 10), AS_OF):
        for shop in (None, shop_a, shop_b):
            scope = rfm.Scope(as_of=as_of, shop_id=shop.id if shop else None)
            snapshots[(as_of, shop.id if shop else None)] = rfm.refresh(db.session, scope, now=NOW).id
    db.session.commit()
    return shop_a, shop_b, people, snapshots


@pytest.fixture
def admin(make, login, union):
    account = make.staff(role="admin")
    login(account)
    return account


@pytest.fixture
def merchant(make, login, union):
    """A merchant of shop A."""
    account = make.staff(role="merchant", shop=union[0])
    login(account)
    return account


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def main(text: str) -> str:
    return text.split('<main id="main">')[1].split("</main>")[0]


OFFICE_PAGES = [
    "/admin/dashboards",
    "/admin/dashboards/distributions",
    "/admin/dashboards/segments/champions",
    "/admin/dashboards/movement",
    "/admin/dashboards/cross-shop",
    "/admin/dashboards/zones",
]


@pytest.mark.parametrize("url", OFFICE_PAGES)
def test_office_pages_render_without_inline_style_or_script(client, admin, url):
    text = page(client, url)
    content = main(text)
    assert "style=" not in content and "<script" not in content
    for svg in re.findall(r"<svg[^>]*>", content):
        assert 'role="img"' in svg and "viewBox" in svg and 'width="100%"' in svg


def test_overview_shows_segments_grid_and_snapshot_dates(client, admin, union):
    shop_a, _, _, snapshots = union
    text = page(client, "/admin/dashboards")
    assert "Toute l'union" in text
    assert "15 juin 2026" in text  # the snapshot date
    for label in ("Champions", "Fidèles potentiels", "Sur le point de s'endormir", "En hibernation", "À ne pas perdre"):
        assert label in text
    assert text.count("<rect") >= 25  # the heat map cells
    assert "Recalculer maintenant" in text
    older = snapshots[(date(2026, 5, 10), None)]
    assert "10 mai 2026" in page(client, f"/admin/dashboards?snapshot={older}")
    per_shop = page(client, f"/admin/dashboards?shop={shop_a.id}")
    assert "Épicerie Alpha" in per_shop
    page(client, f"/admin/dashboards?shop={shop_a.id}&snapshot={older}", 404)  # union snapshot, shop scope
    page(client, "/admin/dashboards?shop=999999", 404)


def test_segment_list_and_exports_are_audited(client, admin, union):
    _, _, _, snapshots = union
    snapshot_id = snapshots[(AS_OF, None)]
    segment = db.session.scalar(
        select(RfmScore.segment).where(RfmScore.snapshot_id == snapshot_id).order_by(RfmScore.segment)
    )
    size = db.session.scalar(
        select(func.count()).where(RfmScore.snapshot_id == snapshot_id, RfmScore.segment == segment)
    )
    text = page(client, f"/admin/dashboards/segments/{segment}?snapshot={snapshot_id}")
    assert f"{size} client" in text and "Client" in text
    response = client.get(f"/admin/dashboards/segments/{segment}/export.csv?snapshot={snapshot_id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data().decode("utf-8-sig").strip().split("\r\n")
    assert lines[0].startswith("Référence;Prénom;Nom;R;F;M;Segment") and len(lines) == size + 1
    response = client.get(f"/admin/dashboards/segments/{segment}/export.xlsx?snapshot={snapshot_id}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.max_row == size + 1
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)).all()
    assert [(e.detail["list"], e.detail["rows"], e.detail["format"]) for e in entries] == [
        (f"segment:{segment}", size, "csv"),
        (f"segment:{segment}", size, "xlsx"),
    ]
    assert entries[0].account_id == admin.id
    page(client, "/admin/dashboards/segments/unknown", 404)
    assert client.get(f"/admin/dashboards/segments/{segment}/export.pdf").status_code == 404


def test_movement_defaults_to_the_two_latest_and_lists_a_cell(client, admin, union):
    _, _, _, snapshots = union
    text = page(client, "/admin/dashboards/movement")
    assert "10 mai 2026" in text and "15 juin 2026" in text
    link = re.search(r'href="(/admin/dashboards/movement/people\?[^"]+)"', text).group(1)
    listing = page(client, link)
    assert "client" in listing
    export = client.get(link.replace("/movement/people?", "/movement/export.csv?"))
    assert export.status_code == 200
    assert db.session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "export"))["list"].startswith(
        "movement:"
    )
    before, after = snapshots[(date(2026, 5, 10), None)], snapshots[(AS_OF, None)]
    page(client, f"/admin/dashboards/movement/people?before={before}&after={after}&was=bogus&became=lost", 404)
    assert "Choisissez deux dates différentes" in page(
        client, f"/admin/dashboards/movement?before={after}&after={after}"
    )
    page(client, f"/admin/dashboards/movement/people?before={after}&after={after}&was=lost&became=lost", 404)


def test_cross_shop_counts_list_and_saved_target(client, admin, union):
    shop_a, shop_b, people, _ = union
    text = page(client, f"/admin/dashboards/cross-shop?shop={shop_a.id}")
    assert "Boulangerie Bêta" in text
    # customers of A: Client0..Client5; also at B: Client0..Client2; never at B: Client3..Client5
    assert re.search(r"Clients de Épicerie Alpha sur la période</dt><dd>6<", text)
    listing = page(client, f"/admin/dashboards/cross-shop/{shop_a.id}/{shop_b.id}")
    assert all(f"Client{i}" in listing for i in (3, 4, 5)) and "Client0" not in listing
    response = client.post(
        f"/admin/dashboards/cross-shop/{shop_a.id}/{shop_b.id}/save?months=12", data={"name": "Invitation Bêta"}
    )
    assert response.status_code == 302
    target = db.session.scalar(select(SavedTarget))
    assert (target.name, target.kind, target.size) == ("Invitation Bêta", "cross_shop", 3)
    assert target.params["from_shop"] == shop_a.id and target.params["to_shop"] == shop_b.id
    assert target.params["window"]["months"] == 12 and target.params["window"]["end"] == "2026-06-15"
    members = set(db.session.scalars(select(SavedTargetMember.customer_id)))
    assert members == {people[3].id, people[4].id, people[5].id}
    assert "Invitation Bêta" in page(client, response.headers["Location"])  # flash message
    response = client.post(f"/admin/dashboards/cross-shop/{shop_a.id}/{shop_b.id}/save", data={"name": ""})
    assert response.status_code == 422
    page(client, f"/admin/dashboards/cross-shop/{shop_a.id}/{shop_a.id}", 404)


def test_refresh_now_computes_the_union_and_each_shop(client, union, make, login):
    login(make.staff(role="admin"))
    db.session.execute(RfmSnapshot.__table__.delete().where(RfmSnapshot.as_of == AS_OF))
    for derived in (RfmScore, RfmCrossShop):
        db.session.execute(derived.__table__.delete().where(~derived.snapshot_id.in_(select(RfmSnapshot.id))))
    db.session.commit()
    response = client.post("/admin/dashboards/refresh", data={})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/dashboards")
    fresh = db.session.scalars(select(RfmSnapshot).where(RfmSnapshot.as_of == AS_OF)).all()
    assert sorted(s.shop_id or 0 for s in fresh) == sorted([0, union[0].id, union[1].id])
    assert "Profils RFM recalculés" in page(client, "/admin/dashboards")


def test_refresh_now_with_a_worker_queues_one_request(client, union, make, login, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.huey, "immediate", False)
    monkeypatch.setattr(tasks, "refresh_rfm", queued.append)  # the worker's queue
    login(make.staff(role="admin"))
    first = client.post("/admin/dashboards/refresh", data={"shop": str(union[0].id)})
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/admin/dashboards?shop={union[0].id}")
    text = page(client, first.headers["Location"])
    assert "Recalcul demandé" in text and "Recalcul en attente depuis" in text
    assert "Un recalcul est déjà en cours" in page(client, client.post("/admin/dashboards/refresh").headers["Location"])
    assert len(queued) == 1
    assert db.session.get(RfmRefresh, queued[0]).status == "queued"


def test_zone_coverage_and_residents_form(client, admin, make):
    make.customer(postcode="69004")
    text = page(client, "/admin/dashboards/zones")
    assert "69004" in text and "Indiquer les habitants" in text
    response = client.post(
        "/admin/dashboards/zones", data={"postcode": "69004", "label": "Croix-Rousse", "residents": "800"}
    )
    assert response.status_code == 302
    assert db.session.get(ZonePostcode, "69004").residents == 800
    assert client.post("/admin/dashboards/zones", data={"postcode": "69004", "residents": "-3"}).status_code == 422
    assert client.post("/admin/dashboards/zones", data={"postcode": "", "residents": "3"}).status_code == 422
    edit = page(client, "/admin/dashboards/zones?postcode=69004")
    assert 'value="Croix-Rousse"' in edit and 'value="800"' in edit
    response = client.post("/admin/dashboards/zones", data={"postcode": "69005", "residents": "100"})
    text = page(client, "/admin/dashboards/zones")
    assert "Inconnue" in text  # 69005: residents but no cardholder


def test_organiser_sees_zones_without_the_form_and_cannot_refresh(client, union, make, login):
    login(make.staff(role="organiser"))
    text = page(client, "/admin/dashboards/zones")
    assert 'name="residents"' not in text
    assert client.post("/admin/dashboards/zones", data={"postcode": "1", "residents": "1"}).status_code == 403
    assert client.post("/admin/dashboards/refresh").status_code == 403
    assert "Recalculer maintenant" not in page(client, "/admin/dashboards")


# Merchants: the same pages, held to their own shop.


def test_merchant_nav_links_to_the_dashboard(client, merchant):
    text = client.get("/counter/").get_data(as_text=True)
    assert 'href="/admin/dashboards"' in text and "Tableau de bord" in text


def test_merchant_forcing_another_shop_still_sees_their_own(client, merchant, union):
    shop_a, shop_b, _, snapshots = union
    for url in (
        f"/admin/dashboards?shop={shop_b.id}",
        f"/admin/dashboards/distributions?shop={shop_b.id}",
        f"/admin/dashboards/movement?shop={shop_b.id}",
        f"/admin/dashboards/cross-shop?shop={shop_b.id}",
    ):
        text = main(page(client, url))
        assert "Épicerie Alpha" in text, url
        assert "Toute l'union" not in text
    own = page(client, f"/admin/dashboards?shop={shop_b.id}")
    assert 'name="shop"' not in main(own)  # no shop selector for merchants
    people_a = db.session.get(RfmSnapshot, snapshots[(AS_OF, shop_a.id)]).people
    assert re.search(rf"Clients profilés</dt><dd>{people_a}<", own)
    cross = page(client, f"/admin/dashboards/cross-shop?shop={shop_b.id}")
    assert "Boutique A : Épicerie Alpha" in cross
    assert f"/admin/dashboards/cross-shop/{shop_a.id}/{shop_b.id}" in cross


def test_merchant_cannot_list_other_shops_customers(client, merchant, union):
    shop_a, shop_b, _, snapshots = union
    other = snapshots[(AS_OF, shop_b.id)]
    whole = snapshots[(AS_OF, None)]
    for snapshot_id in (other, whole):
        page(client, f"/admin/dashboards?snapshot={snapshot_id}", 404)
        page(client, f"/admin/dashboards/segments/champions?snapshot={snapshot_id}", 404)
        page(client, f"/admin/dashboards/segments/champions?shop={shop_b.id}&snapshot={snapshot_id}", 404)
        assert client.get(f"/admin/dashboards/segments/champions/export.csv?snapshot={snapshot_id}").status_code == 404
        page(client, f"/admin/dashboards/movement?after={snapshot_id}", 404)
        page(client, f"/admin/dashboards/movement/people?after={snapshot_id}&was=none&became=lost", 404)
    page(client, f"/admin/dashboards/cross-shop/{shop_b.id}/{shop_a.id}", 403)
    assert (
        client.post(f"/admin/dashboards/cross-shop/{shop_b.id}/{shop_a.id}/save", data={"name": "x"}).status_code == 403
    )
    page(client, "/admin/dashboards/zones", 403)
    assert client.post("/admin/dashboards/refresh").status_code == 403
    assert not db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_merchant_lists_and_exports_their_own_customers(client, merchant, union):
    shop_a, shop_b, people, snapshots = union
    own = snapshots[(AS_OF, shop_a.id)]
    segment = db.session.scalar(select(RfmScore.segment).where(RfmScore.snapshot_id == own).limit(1))
    text = page(client, f"/admin/dashboards/segments/{segment}?shop={shop_b.id}")
    assert "Épicerie Alpha" in text
    response = client.get(f"/admin/dashboards/segments/{segment}/export.csv?shop={shop_b.id}")
    assert response.status_code == 200
    entry = db.session.scalar(select(AuditEntry))
    assert entry.detail["shop_id"] == shop_a.id and entry.detail["snapshot_id"] == own
    assert entry.account_id == merchant.id
    listing = page(client, f"/admin/dashboards/cross-shop/{shop_a.id}/{shop_b.id}")
    assert "Client3" in listing and "Client6" not in listing  # Client6 never came to A
    response = client.post(f"/admin/dashboards/cross-shop/{shop_a.id}/{shop_b.id}/save", data={"name": "Mes clients"})
    assert response.status_code == 302
    target = db.session.scalar(select(SavedTarget))
    assert target.shop_id == shop_a.id and target.size == 3 and target.created_by_id == merchant.id
