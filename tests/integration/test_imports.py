"""Importing visits and customer files: dirty real-world files, matching, review queue, consent, exactly-once."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text

from webapp.cli_imports import import_customers_command, import_visits_command
from webapp.domain import imports, visit_import
from webapp.domain.customer_import import import_customers
from webapp.domain.visit_import import import_visits
from webapp.extensions import db
from webapp.models import Consent, Customer, CustomerReference, ImportBatch, ReviewItem, Visit

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


def write(path, text_, encoding="utf-8"):
    path.write_bytes(text_.replace("\n", "\r\n").encode(encoding))
    return path


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def visits_of(customer_id):
    return db.session.scalars(select(Visit).where(Visit.customer_id == customer_id).order_by(Visit.visited_at)).all()


def run(runner, command, *args):
    result = runner.invoke(command, [str(a) for a in args])
    db.session.rollback()  # the command ran in its own session: read afresh
    return result


# --- visits -------------------------------------------------------------------------------------


def test_dirty_visits_file_keeps_good_rows_and_reports_bad_ones_by_line(runner, make, tmp_path):
    make.shop(slug="fromagerie")
    make.shop(slug="fleurs")
    path = write(
        tmp_path / "export.csv",
        "\ufeff Customer Ref ;DATE; Montant TTC ;Shop;Notes\n"
        "A-1;2025-03-14;23,50;fromagerie;ok\n"
        "A-1;14/03/2025;0;;sans achat\n"
        "B-2;2025-03-15T09:30:00;12.5;FLEURS\n"
        "\n"
        "B-2;2025-03-16;12,3,4;fleurs\n"
        "C-3;31/02/2025;10;fleurs\n"
        "C-3;2025-03-16;10;boulangerie\n"
        ";2025-03-16;10;fleurs\n"
        "C-3;2030-01-01;10;fleurs\n"
        "C-3;2025-03-17;-5;fleurs\n"
        ";;;;\n"
        "D-4;2025-03-18;7;fleurs;extra;columns;ignored\n",
    )
    result = run(runner, import_visits_command, path)
    assert result.exit_code == 0, result.output
    assert "4 visits imported" in result.output
    assert "3 people created" in result.output and "6 rows rejected" in result.output
    for expected in (
        "line 6: not an amount: '12,3,4'",
        "line 7: not a date: '31/02/2025'",
        "line 8: unknown shop 'boulangerie'",
        "line 9: missing customer_ref",
        "line 10: date in the future",
        "line 11: negative amount",
    ):
        assert expected in result.output, result.output
    assert count(Visit) == 4
    union_level = db.session.scalars(select(Visit).where(Visit.shop_id.is_(None))).all()
    assert [(v.amount_cents, v.points, v.source) for v in union_level] == [(0, 0, "import")]
    batch = db.session.scalar(select(ImportBatch))
    assert (batch.kind, batch.created, batch.rejected) == ("visits", 4, 6)
    assert batch.report["problems"][0] == {"line": 6, "reason": "not an amount: '12,3,4'"}
    people = db.session.scalars(select(Customer).order_by(Customer.id)).all()
    assert [(p.reference, p.source) for p in people] == [("A-1", "import"), ("B-2", "import"), ("D-4", "import")]
    refs = db.session.execute(select(CustomerReference.reference, CustomerReference.shop_id)).all()
    assert sorted(refs) == [("A-1", None), ("B-2", None), ("D-4", None)]


def test_dates_are_local_noon_and_local_times_are_converted(app, make, tmp_path):
    shop = make.shop(slug="cafe")
    path = write(
        tmp_path / "v.csv",
        "customer_ref,date,amount\n"
        "R1,2024-07-14,1\n"
        "R1,14/01/2024,2\n"
        "R1,2024-07-14T09:30:00,3\n"
        "R1,2024-07-14T09:30:00Z,4\n"
        "R1,45000,5\n",
    )
    import_visits(db.session, path, now=NOW, shop=shop)
    db.session.commit()
    got = {v.amount_cents // 100: v.visited_at for v in db.session.scalars(select(Visit))}
    assert got == {
        1: datetime(2024, 7, 14, 10, 0, tzinfo=UTC),
        2: datetime(2024, 1, 14, 11, 0, tzinfo=UTC),
        3: datetime(2024, 7, 14, 7, 30, tzinfo=UTC),
        4: datetime(2024, 7, 14, 9, 30, tzinfo=UTC),
        5: datetime(2023, 3, 15, 11, 0, tzinfo=UTC),
    }
    assert {v.shop_id for v in db.session.scalars(select(Visit))} == {shop.id}
    today = write(tmp_path / "today.csv", f"customer_ref,date,amount\nR1,{NOW.date().isoformat()},1\n")
    import_visits(db.session, today, now=NOW, shop=shop)
    db.session.commit()
    assert db.session.scalar(select(func.max(Visit.visited_at))) == NOW  # noon not come yet: stored at now


def test_a_till_export_with_card_numbers_and_a_separate_time_column(app, make, tmp_path):
    shop = make.shop(slug="cave")
    card = make.card(make.customer(first_name="Inès"))
    spaced = f"{card.number[:4]} {card.number[4:8]} {card.number[8:]}"
    path = write(
        tmp_path / "caisse.csv",
        "N° carte;Date;Heure;Montant TTC\n"
        f"{spaced};01/03/2024;14h32;1 234,50 €\n"
        f"{card.number};2024-03-02 10:05:00;18:00;12,5\n"  # the date's own time wins
        f"{card.number};03/03/2024;;7\n"  # no time: local noon
        f"{card.number};04/03/2024;midi;8\n",  # not a time: the date alone
        "utf-8-sig",
    )
    report = import_visits(db.session, path, now=NOW, shop=shop)
    db.session.commit()
    assert (report.imported, report.rejected, report.people_created) == (4, 0, 0)
    got = {v.amount_cents: (v.visited_at, v.card_id) for v in db.session.scalars(select(Visit))}
    assert got == {
        123450: (datetime(2024, 3, 1, 13, 32, tzinfo=UTC), card.id),
        1250: (datetime(2024, 3, 2, 9, 5, tzinfo=UTC), card.id),
        700: (datetime(2024, 3, 3, 11, 0, tzinfo=UTC), card.id),
        800: (datetime(2024, 3, 4, 11, 0, tzinfo=UTC), card.id),
    }
    again = import_visits(db.session, path, now=NOW, shop=shop)
    assert (again.imported, again.already_imported) == (0, 4)


def test_latin1_tab_separated_file_with_accents(runner, make, tmp_path):
    make.shop(slug="epicerie")
    path = write(tmp_path / "caisse.txt", "Réf client\tDate de visite\tMontant\nZoé-42\t01/02/2025\t4,20\n", "latin-1")
    result = run(runner, import_visits_command, path, "--shop", "epicerie")
    assert result.exit_code == 0, result.output
    person = db.session.scalar(select(Customer))
    assert person.reference == "Zoé-42"
    assert visits_of(person.id)[0].amount_cents == 420
    ref = db.session.scalar(select(CustomerReference))
    assert ref.reference == "Zoé-42" and ref.shop_id is not None  # a shop's own file: the shop's numbering


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-16", "utf-8"])
def test_any_encoding_and_leading_blank_lines(app, make, tmp_path, encoding):
    shop = make.shop()
    content = "\n\nclient;date;montant\nRené « Zoé »;2025-01-02;1 234,50 €\nX;bad;1\n"
    report = import_visits(db.session, write(tmp_path / "v.csv", content, encoding), now=NOW, shop=shop)
    db.session.commit()
    assert (report.imported, report.problems) == (1, [(5, "not a date: 'bad'")])
    assert db.session.scalar(select(Customer.reference)) == "René « Zoé »"
    assert db.session.scalar(select(Visit.amount_cents)) == 123450


def test_title_lines_above_the_header_are_skipped_and_line_numbers_kept(app, make, tmp_path):
    shop = make.shop()
    titles = "Export caisse - Fromagerie;;\n\nDu 01/01/2025 au 31/01/2025;;\n"
    content = titles + "client;date;montant\nR-1;02/01/2025;4\nR-2;bad;1\n"
    report = import_visits(db.session, write(tmp_path / "v.csv", content), now=NOW, shop=shop)
    assert (report.imported, report.problems) == (1, [(6, "not a date: 'bad'")])


def test_refs_match_earlier_imports_card_numbers_and_emails(runner, make, tmp_path):
    shop = make.shop(slug="fromagerie")
    other = make.shop(slug="fleurs")
    with_card = make.customer(email="carte@example.org")
    card = make.card(with_card)
    by_email = make.customer(email="marie@example.org")
    known_here = make.customer(email=None)
    known_union = make.customer(email=None)
    known_elsewhere = make.customer(email=None)
    db.session.add_all(
        [
            CustomerReference(customer_id=known_here.id, shop_id=shop.id, reference="F-001"),
            CustomerReference(customer_id=known_union.id, shop_id=None, reference="U-9"),
            CustomerReference(customer_id=known_elsewhere.id, shop_id=other.id, reference="FL-7"),
        ]
    )
    db.session.commit()
    spaced = f"{card.number[:4]} {card.number[4:8]} {card.number[8:]}"
    path = write(
        tmp_path / "v.csv",
        "customer_ref;date;amount\n"
        f"{spaced};2025-01-02;10\n"
        "MARIE@Example.org;2025-01-03;11\n"
        "F-001;2025-01-04;12\n"
        "U-9;2025-01-05;13\n"
        "FL-7;2025-01-06;14\n"
        "NEW-1;2025-01-07;15\n"
        "NEW-1;2025-01-08;16\n",
    )
    result = run(runner, import_visits_command, path, "--shop", "fromagerie")
    assert result.exit_code == 0, result.output
    assert "7 visits imported" in result.output and "1 people created" in result.output
    assert [(v.amount_cents, v.card_id) for v in visits_of(with_card.id)] == [(1000, card.id)]
    assert [v.amount_cents for v in visits_of(by_email.id)] == [1100]
    assert [v.amount_cents for v in visits_of(known_here.id)] == [1200]
    assert [v.amount_cents for v in visits_of(known_union.id)] == [1300]
    assert [v.amount_cents for v in visits_of(known_elsewhere.id)] == [1400]
    created = db.session.scalar(select(Customer).where(Customer.reference == "NEW-1"))
    assert created.source == "import" and [v.amount_cents for v in visits_of(created.id)] == [1500, 1600]
    assert db.session.scalar(select(CustomerReference.shop_id).where(CustomerReference.reference == "NEW-1")) == shop.id
    assert {v.shop_id for v in db.session.scalars(select(Visit))} == {shop.id}


def test_a_reference_used_by_two_shops_for_different_people_needs_the_shop(app, make, tmp_path):
    a, b = make.shop(slug="a"), make.shop(slug="b")
    alice, bob = make.customer(), make.customer()
    db.session.add_all(
        [
            CustomerReference(customer_id=alice.id, shop_id=a.id, reference="1042"),
            CustomerReference(customer_id=bob.id, shop_id=b.id, reference="1042"),
        ]
    )
    db.session.commit()
    path = write(tmp_path / "v.csv", "customer_ref,date,amount,shop\n1042,2025-01-02,1,\n1042,2025-01-02,2,b\n")
    report = import_visits(db.session, path, now=NOW)
    db.session.commit()
    assert report.problems == [(2, "reference '1042' belongs to different people in several shops")]
    assert [v.amount_cents for v in visits_of(bob.id)] == [200]


def test_reimporting_never_doubles_visits_but_repeated_rows_count(runner, make, tmp_path):
    make.shop(slug="cafe")
    first = write(
        tmp_path / "jan.csv",
        "customer_ref,date,amount,shop\n"
        "K1,2025-01-10,2.50,cafe\n"
        "K1,2025-01-10,2.50,cafe\n"  # two coffees the same day: two visits
        "K2,2025-01-11,8,cafe\n"
        "K3,2025-01-11,8,\n",
    )
    assert run(runner, import_visits_command, first).exit_code == 0
    assert count(Visit) == 4
    again = run(runner, import_visits_command, first)
    assert again.exit_code == 0 and "0 visits imported, 4 already imported" in again.output
    assert count(Visit) == 4 and count(Customer) == 3
    overlapping = write(
        tmp_path / "jan-feb.csv",
        "shop;amount;date;customer_ref\n"
        ";8,00;11/01/2025;K3\n"
        "cafe;8;11/01/2025;K2\n"
        "cafe;2,5;10/01/2025;K1\n"
        "cafe;2,50;10/01/2025;K1\n"
        "cafe;2,50;10/01/2025;K1\n"  # a third coffee that day, new in this export
        "cafe;4;01/02/2025;K2\n",
    )
    result = run(runner, import_visits_command, overlapping)
    assert "2 visits imported, 4 already imported" in result.output, result.output
    assert count(Visit) == 6 and count(Customer) == 3


def test_missing_required_column_is_a_clear_error_and_writes_nothing(runner, tmp_path):
    path = write(tmp_path / "v.csv", "customer_ref;date;points\nA;2025-01-01;3\n")
    result = run(runner, import_visits_command, path)
    assert result.exit_code != 0
    assert "missing required column(s): amount" in result.output
    assert count(ImportBatch) == 0 and count(Visit) == 0


def test_unreadable_inputs_fail_with_a_non_zero_exit(runner, make, tmp_path):
    assert run(runner, import_visits_command, tmp_path / "nope.csv").exit_code != 0
    empty = write(tmp_path / "empty.csv", "")
    assert "empty" in run(runner, import_visits_command, empty).output
    path = write(tmp_path / "v.csv", "customer_ref,date,amount\nA,2025-01-01,3\n")
    unknown = run(runner, import_visits_command, path, "--shop", "nowhere")
    assert unknown.exit_code != 0 and "no shop" in unknown.output
    assert count(Visit) == 0


def test_a_crash_mid_file_leaves_nothing_behind(app, make, tmp_path, monkeypatch):
    rows = "".join(f"P{i},2025-01-{1 + i % 28:02d},{i}\n" for i in range(10))
    path = write(tmp_path / "v.csv", "customer_ref,date,amount\n" + rows)
    real = imports.insert_rows
    calls = []

    def crash_on_second_visit_chunk(connection, table_name, columns, data):
        if table_name == "visit":
            calls.append(len(data))
            if len(calls) == 2:
                raise RuntimeError("power cut")
        return real(connection, table_name, columns, data)

    monkeypatch.setattr(imports, "insert_rows", crash_on_second_visit_chunk)
    with pytest.raises(RuntimeError):
        import_visits(db.session, path, now=NOW, chunk_rows=4)
    db.session.rollback()
    assert calls[0] == 4
    assert (count(Visit), count(Customer), count(CustomerReference), count(ImportBatch)) == (0, 0, 0, 0)
    monkeypatch.setattr(imports, "insert_rows", real)
    report = import_visits(db.session, path, now=NOW, chunk_rows=4)
    db.session.commit()
    assert report.imported == 10 and count(Visit) == 10


def _index_names(connection) -> set[str]:
    if connection.dialect.name == "postgresql":
        rows = connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'visit'"))
    else:
        rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visit'"))
    return {name for (name,) in rows}


def _foreign_keys(connection) -> int:
    if connection.dialect.name == "postgresql":
        query = "SELECT count(*) FROM pg_constraint WHERE conrelid = 'visit'::regclass AND contype = 'f'"
        return connection.execute(text(query)).scalar()
    return len(connection.execute(text("PRAGMA foreign_key_list(visit)")).all())


def test_large_file_path_rebuilds_every_index_and_foreign_key(app, make, tmp_path, monkeypatch):
    shop = make.shop(slug="halles")
    known = make.customer(email="known@example.org")
    connection = db.session.connection()
    indexes, foreign_keys = _index_names(connection), _foreign_keys(connection)
    db.session.commit()
    assert "ix_visit_rfm_union" in indexes
    monkeypatch.setattr(visit_import, "LARGE_FILE_ROWS", 5)
    rows = "".join(f"L{i % 7},2025-02-{1 + i % 28:02d},{i},halles\n" for i in range(40))
    path = write(tmp_path / "big.csv", "customer_ref,date,amount,shop\nknown@example.org,2025-02-01,9,\n" + rows)
    report = import_visits(db.session, path, now=NOW)
    db.session.commit()
    assert (report.imported, report.people_created) == (41, 7)
    connection = db.session.connection()
    assert _index_names(connection) == indexes and _foreign_keys(connection) == foreign_keys
    by_shop = db.session.scalar(select(func.count()).select_from(Visit).where(Visit.shop_id == shop.id))
    assert by_shop == 40 and [v.amount_cents for v in visits_of(known.id)] == [900]
    if connection.dialect.name == "sqlite":
        assert connection.execute(text("PRAGMA cache_size")).scalar() == -2000  # restored
    db.session.commit()


def test_a_large_load_through_the_command_leaves_the_visit_table_vacuumed(runner, make, tmp_path, monkeypatch):
    make.shop(slug="halles")
    db.session.commit()
    monkeypatch.setattr(visit_import, "LARGE_FILE_ROWS", 5)
    postgres = db.engine.dialect.name == "postgresql"

    def vacuums() -> int:
        if not postgres:
            return 0
        with db.engine.connect() as connection:  # the statistics collector's view, outside the test's transaction
            connection.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            return connection.exec_driver_sql(
                "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'visit'"
            ).scalar()

    before = vacuums()
    small = write(tmp_path / "small.csv", "customer_ref,date,amount\nS1,2025-02-01,1\n")
    assert run(runner, import_visits_command, small, "--shop", "halles").exit_code == 0
    assert vacuums() == before  # a small file: left to autovacuum
    big = write(
        tmp_path / "big.csv", "customer_ref,date,amount\n" + "".join(f"B{i},2025-02-01,{i}\n" for i in range(9))
    )
    result = run(runner, import_visits_command, big, "--shop", "halles")
    assert result.exit_code == 0, result.output
    assert count(Visit) == 10
    if postgres:  # the count is published by the vacuuming connection: give it a moment
        deadline = time.monotonic() + 5
        while vacuums() == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert vacuums() == before + 1


# --- customers ----------------------------------------------------------------------------------

CUSTOMER_HEADER = "Prénom;Nom;Courriel;Téléphone;Code postal;Réf;Consentement email;Date de consentement\n"


def test_dirty_latin1_customer_file_with_excel_serial_dates(runner, make, tmp_path):
    make.shop(slug="fromagerie", name="Fromagerie Martin")
    path = write(
        tmp_path / "clients.csv",
        CUSTOMER_HEADER + "Élodie ;Dupont;Elodie@Example.org;06 12 34 56 78;69004;F-1;oui;45000\n"
        "Noël;Lefèvre;noel@example.org;;1000;F-2;OUI;\n"
        "Zoé;Martin;pas-un-email;;69001;F-3;non;15/03/2023\n"
        "Hugo;Bernard;;0612;69001;F-4;;\n"
        "Inès;Petit;ines@example.org;;690;F-5;;\n"
        ";;;;;F-6;;\n"
        "Léa;Roux;lea@example.org;+33 7 81 23 45 67;69002;F-7;x;2023-04-01\n",
        "latin-1",
    )
    result = run(runner, import_customers_command, path, "--shop", "fromagerie")
    assert result.exit_code == 0, result.output
    assert "5 people created, 0 matched, 0 to review, 2 rejected; 2 consents recorded" in result.output
    for expected in (
        "line 4: rejected: invalid email 'pas-un-email'",
        "line 5: created: phone number ignored: '0612' is not valid",
        "line 6: created: postcode ignored: '690' is not five digits",
        "line 7: rejected: no name, email or phone",
    ):
        assert expected in result.output, result.output
    elodie = db.session.scalar(select(Customer).where(Customer.email == "elodie@example.org"))
    assert (elodie.first_name, elodie.phone, elodie.postcode, elodie.source) == (
        "Élodie",
        "+33612345678",
        "69004",
        "import",
    )
    noel = db.session.scalar(select(Customer).where(Customer.email == "noel@example.org"))
    assert noel.postcode == "01000" and noel.last_name == "Lefèvre"
    consent = db.session.scalar(select(Consent).where(Consent.customer_id == elodie.id))
    assert (consent.channel, consent.granted, consent.method) == ("email", True, "import")
    assert consent.recorded_at.date() == date(2023, 3, 15)
    assert "clients.csv" in consent.wording and "Fromagerie Martin" in consent.wording
    assert db.session.scalar(select(func.count()).where(Consent.customer_id == noel.id)) == 0  # no date: no proof
    batch = db.session.scalar(select(ImportBatch))
    assert (batch.kind, batch.created, batch.matched, batch.to_review, batch.rejected) == ("customers", 5, 0, 0, 2)
    lines = {line["line"]: line for line in batch.report["lines"]}
    assert lines[3]["outcome"] == "created" and "no valid consent date" in lines[3]["reason"]
    assert batch.report["columns"]["email"] == "Courriel"
    refs = db.session.scalars(select(CustomerReference.reference).order_by(CustomerReference.reference)).all()
    assert refs == ["F-1", "F-2", "F-4", "F-5", "F-7"]
    kept = {c.first_name: (c.phone, c.postcode) for c in db.session.scalars(select(Customer))}
    assert (kept["Hugo"], kept["Inès"]) == ((None, "69001"), (None, None))  # kept without the bad value


def test_xlsx_file_with_date_cells_and_numbers_eaten_by_excel(runner, make, tmp_path):
    make.shop(slug="fleurs")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([])
    sheet.append(["NOM", "PRENOM", "E-mail", "Mobile", "CP", "Opt-in", "Date opt-in", "Ville"])
    sheet.append(["Durand", "Paul", "paul@example.org", 612345678, 1000, "Oui", datetime(2024, 5, 2), "Bourg"])
    sheet.append(["Durand", "Jeanne", "jeanne@example.org", 33781234567, 69004, 1, 45414, "Lyon"])
    sheet.append([None, None, None, None, None, None, None, None])
    sheet.append(["Martin", "Luc", "luc@", None, 69004, None, None, None])
    path = tmp_path / "clients.xlsx"
    workbook.save(path)
    result = run(runner, import_customers_command, path, "--shop", "fleurs")
    assert result.exit_code == 0, result.output
    assert "2 people created" in result.output and "1 rejected" in result.output
    assert "line 6: rejected: invalid email 'luc@'" in result.output
    paul = db.session.scalar(select(Customer).where(Customer.first_name == "Paul"))
    assert (paul.phone, paul.postcode, paul.last_name) == ("+33612345678", "01000", "Durand")
    consents = {c.customer_id: c.recorded_at.astimezone(UTC).date() for c in db.session.scalars(select(Consent)).all()}
    jeanne = db.session.scalar(select(Customer).where(Customer.first_name == "Jeanne"))
    assert consents == {paul.id: date(2024, 5, 2), jeanne.id: date(2024, 5, 2)}


def test_xlsx_with_a_title_row_above_the_header(app, make, tmp_path):
    shop = make.shop()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Liste des adhérents au 01/03/2025"])
    sheet.append([])
    sheet.append(["Nom", "Prénom", "Courriel", "CP"])
    sheet.append(["Bernard", "Luc", "luc.bernard@example.org", "69004"])
    sheet.append(["Petit", "Léa", "lea@", "69001"])
    path = tmp_path / "adherents.xlsx"
    workbook.save(path)
    report = import_customers(db.session, path, shop=shop, now=NOW)
    assert (report.created, report.rejected) == (1, 1)
    assert [(o.line, o.outcome) for o in report.outcomes if o.outcome == "rejected"] == [(5, "rejected")]
    assert imports.preview_columns(path, imports.CUSTOMER_FIELDS).headers == ["Nom", "Prénom", "Courriel", "CP"]


def test_duplicate_rows_in_one_file_become_one_person(app, make, tmp_path):
    shop = make.shop()
    path = write(
        tmp_path / "c.csv",
        "email,first name,last name,phone,zip\n"
        "ana@example.org,Ana,Silva,,69003\n"
        "ANA@example.org,Ana,Silva,06 11 22 33 44,69003\n"
        ",Ana,Silva,0611223344,69003\n"
        "ana@example.org,Ana,Silva,,69003\n",
    )
    report = import_customers(db.session, path, shop=shop, now=NOW)
    db.session.commit()
    assert (report.created, report.matched, report.to_review, report.rejected) == (1, 3, 0, 0)
    assert [o.reason for o in report.outcomes[1:]] == [
        "same email as the person of line 2",
        "same phone as the person of line 2",
        "same email as the person of line 2",
    ]
    ana = db.session.scalar(select(Customer))
    assert count(Customer) == 1 and ana.phone == "+33611223344"  # filled by the second row


def test_same_person_in_two_shops_files_and_a_fuzzy_one_for_review(runner, make, tmp_path):
    """The issue's case: one person in the shared file, one review item for the fuzzy spelling."""
    make.shop(slug="boulangerie")
    make.shop(slug="librairie")
    shop_a = write(
        tmp_path / "a.csv",
        "Réf;Prénom;Nom;Email;Code postal\nA-17;Élodie;Dupont;elodie@example.org;69004\n",
    )
    shop_b = write(
        tmp_path / "b.csv",
        "Num client;Nom complet;Mail;Tél;CP\n"
        "B-3;DUPONT Elodie;ELODIE@example.org;06 01 02 03 04;69004\n"
        "B-4;Elodie Dupond;;;69004\n"
        "B-5;Paul Dupont;;;69004\n",
        "cp1252",
    )
    assert run(runner, import_customers_command, shop_a, "--shop", "boulangerie").exit_code == 0
    result = run(runner, import_customers_command, shop_b, "--shop", "librairie")
    assert result.exit_code == 0, result.output
    assert "1 people created, 1 matched, 1 to review, 0 rejected" in result.output
    elodie = db.session.scalar(select(Customer).where(Customer.email == "elodie@example.org"))
    assert db.session.scalar(select(func.count()).where(Customer.email == "elodie@example.org")) == 1
    assert (elodie.first_name, elodie.last_name, elodie.reference) == ("Élodie", "Dupont", "A-17")  # kept
    assert elodie.phone == "+33601020304"  # was empty: filled
    refs = db.session.execute(
        select(CustomerReference.reference).where(CustomerReference.customer_id == elodie.id)
    ).scalars()
    assert sorted(refs) == ["A-17", "B-3"]
    review = db.session.scalar(select(ReviewItem))
    assert count(ReviewItem) == 1
    dupond = db.session.get(Customer, review.customer_id)
    assert (dupond.last_name, review.candidate_id, review.status) == ("Dupond", elodie.id, "pending")
    assert 0.85 <= review.score < 1 and review.reason == "« Elodie Dupond » ~ « Élodie Dupont », 69004"
    assert "line 3: to_review: « Elodie Dupond » ~ « Élodie Dupont », 69004" in result.output
    assert count(Customer) == 3  # Élodie, the Dupond to review, Paul (another first name: no review)


def test_reimporting_a_customer_file_matches_everyone_and_keeps_a_withdrawn_consent(app, make, tmp_path):
    shop = make.shop(name="Cave")
    path = write(
        tmp_path / "c.csv",
        "ref,nom,prenom,tel,optin,date optin\nC1,Roux,Léa,0611111111,oui,01/02/2024\nC2,Blanc,Tom,,,\n",
    )
    first = import_customers(db.session, path, shop=shop, now=NOW)
    db.session.commit()
    assert (first.created, first.consents) == (2, 1)
    lea = db.session.scalar(select(Customer).where(Customer.first_name == "Léa"))
    db.session.add(
        Consent(customer_id=lea.id, channel="email", granted=False, method="form", wording="Non merci", recorded_at=NOW)
    )
    db.session.commit()
    second = import_customers(db.session, path, shop=shop, now=NOW + timedelta(days=1))
    db.session.commit()
    assert (second.created, second.matched, second.consents) == (0, 2, 0)
    assert [o.reason for o in second.outcomes] == ["same shop reference", "same shop reference"]
    latest = db.session.scalar(select(Consent).where(Consent.customer_id == lea.id).order_by(Consent.id.desc()))
    assert latest.granted is False and count(Customer) == 2 and count(CustomerReference) == 2


def test_erased_people_are_not_brought_back(app, make, tmp_path):
    shop = make.shop()
    gone = make.customer(email=None, first_name=None, erased_at=NOW)
    db.session.add(CustomerReference(customer_id=gone.id, shop_id=shop.id, reference="X1"))
    db.session.commit()
    path = write(tmp_path / "c.csv", "ref,email\nX1,back@example.org\n")
    report = import_customers(db.session, path, shop=shop, now=NOW)
    db.session.commit()
    assert report.outcomes[0].outcome == "rejected" and "erased" in report.outcomes[0].reason
    assert db.session.get(Customer, gone.id).email is None and count(Customer) == 1


def test_column_mapping_can_be_corrected(app, make, tmp_path):
    shop = make.shop()
    path = write(tmp_path / "c.csv", "Col A;Col B;Col C\nGarcia;maria@example.org;Maria\n")
    preview = imports.preview_columns(path, imports.CUSTOMER_FIELDS)
    assert preview.mapping == {} and preview.sample[0] == (2, ["Garcia", "maria@example.org", "Maria"])
    with pytest.raises(imports.MissingColumns, match="email, phone or name"):
        import_customers(db.session, path, shop=shop, now=NOW)
    db.session.rollback()
    report = import_customers(
        db.session, path, shop=shop, now=NOW, mapping={"last_name": "col a", "email": 1, "first_name": "Col C"}
    )
    db.session.commit()
    assert report.columns == {"last_name": "Col A", "email": "Col B", "first_name": "Col C"}
    maria = db.session.scalar(select(Customer))
    assert (maria.first_name, maria.last_name, maria.email) == ("Maria", "Garcia", "maria@example.org")


def test_customer_file_without_identity_columns_fails_on_the_cli(runner, make, tmp_path):
    make.shop(slug="cave")
    path = write(tmp_path / "c.csv", "ville;notes\nLyon;x\n")
    result = run(runner, import_customers_command, path, "--shop", "cave")
    assert result.exit_code != 0 and "email, phone or name" in result.output
    assert count(ImportBatch) == 0
    assert run(runner, import_customers_command, path).exit_code != 0  # --shop is required


def test_postal_addresses_are_imported_for_letters(make, tmp_path, now):
    shop = make.shop()
    known = make.customer(email="known@example.org", street=None, town=None)
    path = tmp_path / "adresses.csv"
    path.write_text(
        "Nom;Prénom;Adresse e-mail;Adresse;Ville;CP\n"
        "Rivière;Camille;camille@example.org;  12   rue d'Austerlitz ;Lyon;69004\n"
        "Connu;Kim;known@example.org;3 place Sathonay;Lyon;69001\n",
        encoding="utf-8",
    )
    import_customers(db.session, path, shop=shop, now=now)
    db.session.commit()
    camille = db.session.scalar(select(Customer).where(Customer.email == "camille@example.org"))
    assert (camille.street, camille.town, camille.postcode) == ("12 rue d'Austerlitz", "Lyon", "69004")
    db.session.refresh(known)
    assert (known.street, known.town) == ("3 place Sathonay", "Lyon")  # an empty field is filled
