"""Benchmark: a contest with 100,000 entries, from moderation to the draw and the export.

Usage (from the repository root, with the project's virtualenv):

    python benchmarks/contests.py                 # full size, SQLite and PostgreSQL
    python benchmarks/contests.py --quick         # smoke run for CI (a few seconds)
    python benchmarks/contests.py --databases sqlite --entries 20000

For each database the script builds a fresh schema with the Alembic migrations
(SQLite: a file in a temporary directory; PostgreSQL: `BENCH_POSTGRES_URL`, default
postgresql+psycopg://postgres@127.0.0.1:5432/test, whose `public` schema is DROPPED and
rebuilt), creates a published free-text contest (moderated entries) with three prizes
through the domain functions, and bulk-loads its entries, generated from a fixed seed:
one person each (a prospect of the shared file, as a visitor's entry makes), a few
percent of them sharing an e-mail, a phone or an address with another entrant (flagged,
as the entry code flags them), a tenth already moderated. Then:

1. moderation: the organiser's moderation queue through the Flask test client, signed in
   as an organiser: the first page of entries waiting, a page deep in the queue (keyset
   pagination), the flagged entries only, and every status; one warm-up request each, then
   the best of `--runs`;
2. draw: every waiting entry is approved (one UPDATE, not timed), the clock moves past the
   end, and the draw is timed as the organiser runs it: freezing the eligible list and
   publishing the commitment (`draws.commit_draw`, committed), then drawing the winners and
   reserves (`draws.run_draw`, committed); `draws.verify_draw` must then confirm it;
3. export: the entries' CSV download (GET .../export.csv), timed from request to the last
   byte, checked for one line per entry.

Output: stdout carries only figures, one per line, exactly `name: value unit`:

    moderation_page_ms_sqlite: N ms      slowest of the moderation pages, SQLite
    draw_s_sqlite: N s                   freeze + commitment + draw, SQLite
    export_s_sqlite: N s                 the CSV export of every entry, SQLite
    moderation_page_ms_postgresql, draw_s_postgresql, export_s_postgresql: the same on PostgreSQL

plus `figures_page_ms_<db>` (the contest's figures page) and `verify_draw_s_<db>`. The
targets: moderation pages under 300 ms, the draw under 2 s, the export under 5 s.
"""

import argparse
import csv
import io
import random
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    add_common_arguments,
    analyze,
    best_ms,
    chosen_databases,
    figure,
    insert_ids,
    load_average,
    log,
    reset_postgres,
    run_each_database,
    warn_above_targets,
)

SEED = 20261204
STARTS = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
ENDS = datetime(2026, 11, 15, 22, 59, tzinfo=UTC)
CREATED = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)
ORGANISER_EMAIL = "jeux@bench.example.org"
ORGANISER_PASSWORD = "benchmark-organiser-password-2026"  # noqa: S105 - a throwaway database
TARGETS = {"page_ms": 300.0, "draw_s": 2.0, "export_s": 5.0}
CONFIG = {
    "SECRET_KEY": "benchmark-secret-key-not-for-production",
    "CARD_SIGNING_KEY": "benchmark-card-signing-key-not-for-production",
    "BASE_URL": "http://127.0.0.1:5000",
    "RATELIMIT_ENABLED": False,
    "WTF_CSRF_ENABLED": False,
}
FIRST_NAMES = ("Camille", "Léa", "Chloé", "Manon", "Inès", "Jules", "Lucas", "Hugo", "Noé", "Zoé", "Éloïse", "Maël")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau")
TOWNS = (("69001", "Lyon"), ("69004", "Lyon"), ("69300", "Caluire-et-Cuire"), ("69100", "Villeurbanne"))
TEXTS = (
    "Mon souvenir préféré du quartier : le marché du dimanche matin.",
    "La boulangerie du coin, son pain au levain et le sourire de la patronne.",
    '=HYPERLINK("http://example.org") une blague de tableur',  # the export must neutralise it
    "Les pentes, les traboules, et un café en terrasse.",
)


@dataclass(frozen=True)
class Size:
    entries: int
    runs: int


FULL = Size(entries=100_000, runs=3)
QUICK = Size(entries=2_000, runs=1)


def make_app(url: str, instance: Path):
    from webapp import create_app

    return create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url, "OUTBOX_DIR": str(instance / "outbox")})


def entrant_rows(size: Size, now: datetime) -> tuple[list[dict], list[dict]]:
    """(people, entries): one prospect per entry; about 3 % share a key with another (flagged)."""
    from webapp.domain.contests import address_key, fold_email
    from webapp.domain.names import folded_names

    rng = random.Random(SEED)
    people, entries = [], []
    for index in range(size.entries):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        postcode, town = rng.choice(TOWNS)
        email = f"{first.lower()}.{last.lower()}.{index}@example.org"
        phone = f"+336{index:08d}"
        street = f"{1 + index % 120} rue {rng.choice(LAST_NAMES)} {index}"
        flags = ""
        if index and rng.random() < 0.03:  # the same e-mail, phone or address as the previous entrant
            kind = rng.choice(("email", "phone", "address"))
            flags = f"duplicate_{kind}"
            if kind == "email":
                email = people[-1]["email"].replace("@", f"+{index}@")
            elif kind == "phone":
                phone = people[-1]["phone"]
            else:
                street = entries[-1]["street"]
            entries[-1]["flags"] = flags
        folded_first, folded_last = folded_names(first, last)
        people.append(
            {
                "first_name": first,
                "last_name": last,
                "first_name_folded": folded_first,
                "last_name_folded": folded_last,
                "email": email,
                "phone": phone,
                "postcode": postcode,
                "source": "contest",
                "created_at": now,
            }
        )
        entered = STARTS + timedelta(seconds=rng.randrange(int((ENDS - STARTS).total_seconds())))
        status = "pending"
        if rng.random() < 0.1:
            status = "rejected" if rng.random() < 0.3 else "accepted"
        entries.append(
            {
                "street": street,
                "limit_key": "once",
                "entered_on": entered.date(),
                "created_at": entered,
                "rules_version": 1,
                "age_confirmed": True,
                "public_name_consent": rng.random() < 0.6,
                "answer_text": rng.choice(TEXTS),
                "answer_correct": None,
                "town": town,
                "postcode": postcode,
                "email_key": fold_email(email),
                "phone_key": phone,
                "address_key": address_key(street, postcode),
                "flags": flags,
                "status": status,
                "rejection_reason": "Hors sujet" if status == "rejected" else "",
                "moderated_at": entered + timedelta(days=1) if status != "pending" else None,
            }
        )
    return people, entries


def prepare_database(url: str, size: Size, instance: Path) -> int:
    """A fresh schema by the migrations, an organiser, the contest and its entries; returns the contest id."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from webapp.domain import accounts, contests
    from webapp.extensions import db
    from webapp.models import ContestEntry, Customer

    if url.startswith("postgresql"):
        reset_postgres(url)
    app = make_app(url, instance)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        session = db.session
        organiser = accounts.create_staff(
            session,
            email=ORGANISER_EMAIL,
            password=ORGANISER_PASSWORD,
            role="organiser",
            now=CREATED,
            check_password=False,
        )
        contest = contests.save_contest(
            session,
            None,
            title="Racontez-nous votre quartier",
            description="Un souvenir, une adresse, une rencontre : les plus beaux textes gagnent.",
            starts_at=STARTS,
            ends_at=ENDS,
            eligibility="everyone",
            entry_type="text",
            question="",
            answer="",
            entry_limit="once",
            minimum_age=16,
            rules_extra="",
            prizes=[("Un panier garni des commerçants", 1), ("Un bon d'achat de 50 €", 3), ("Une tote bag", 10)],
            image=None,
            by_id=organiser.id,
            now=CREATED,
        )
        contests.publish_contest(session, contest, CREATED)
        people, entries = entrant_rows(size, CREATED)
        customer_ids = insert_ids(session, Customer, people)
        rows = []
        for entry, customer_id in zip(entries, customer_ids, strict=True):
            row = {key: value for key, value in entry.items() if key != "street"}
            row.update(
                contest_id=contest.id,
                customer_id=customer_id,
                moderated_by_id=organiser.id if entry["moderated_at"] else None,
            )
            rows.append(row)
        for start in range(0, len(rows), 10_000):
            session.execute(insert(ContestEntry), rows[start : start + 10_000])
        session.commit()
        contest_id = contest.id
        db.session.remove()
        db.engine.dispose()
    analyze(url)
    log(f"seeded the contest and {size.entries} entries in {time.perf_counter() - started:.1f} s")
    return contest_id


def signed_in_client(app):
    client = app.test_client()
    with app.app_context():
        response = client.post("/auth/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"organiser sign-in failed: status {response.status_code}")
    return client


def moderation_pages(name: str, app, client, contest_id: int, runs: int) -> dict[str, float]:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import ContestEntry

    with app.app_context():
        deep = db.session.scalar(
            select(ContestEntry.id)
            .where(ContestEntry.contest_id == contest_id, ContestEntry.status == "pending")
            .order_by(ContestEntry.id)
            .offset(int(db.session.scalar(select(func.count()).select_from(ContestEntry)) * 0.8))
            .limit(1)
        )
        db.session.rollback()
    base = f"/contests/manage/{contest_id}/moderation"
    pages = {
        "waiting, first page": (base, "Racontez-nous"),
        "waiting, deep in the queue": (f"{base}?after={deep}" if deep else base, None),
        "flagged only": (f"{base}?flagged=1", None),
        "already accepted": (f"{base}?status=accepted", None),
    }
    times = {}
    for label, (path, expect) in pages.items():
        with app.app_context():
            times[label] = best_ms(client, path, runs, expect)
        log(f"[{name}] moderation page {label}: {times[label]:.0f} ms  ({path})")
    return times


def draw(name: str, app, contest_id: int) -> tuple[float, float]:
    """Approve what waits (not timed), then time the freeze + commitment and the draw; (draw s, verify s)."""
    from sqlalchemy import update

    from webapp.domain import draws
    from webapp.extensions import begin_write, db
    from webapp.models import Contest, ContestEntry

    after_end = ENDS + timedelta(days=1)
    with app.app_context():
        begin_write(db.session)
        db.session.execute(
            update(ContestEntry)
            .where(ContestEntry.contest_id == contest_id, ContestEntry.status == "pending")
            .values(status="accepted", moderated_at=after_end)
        )
        db.session.commit()
        started = time.perf_counter()
        begin_write(db.session)
        contest = db.session.get(Contest, contest_id)
        draws.commit_draw(db.session, contest, after_end)
        db.session.commit()
        committed = time.perf_counter() - started
        begin_write(db.session)
        winners = draws.run_draw(db.session, db.session.get(Contest, contest_id), after_end + timedelta(minutes=5))
        db.session.commit()
        elapsed = time.perf_counter() - started
        log(
            f"[{name}] draw: freeze + commitment {committed:.2f} s, then {len(winners)} winners and reserves "
            f"{elapsed - committed:.2f} s"
        )
        started = time.perf_counter()
        report = draws.verify_draw(db.session, contest_id)
        verified = time.perf_counter() - started
        db.session.rollback()
    if not report.ok:
        raise ValueError(f"verify-draw does not confirm the draw: {report}")
    log(f"[{name}] verify-draw: confirmed in {verified:.2f} s")
    return elapsed, verified


def export(name: str, client, contest_id: int, entries: int) -> float:
    started = time.perf_counter()
    response = client.get(f"/contests/manage/{contest_id}/export.csv")
    body = response.get_data()
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"export: status {response.status_code}")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    if len(rows) - 1 != entries:
        raise ValueError(f"the export holds {len(rows) - 1} entries, expected {entries}")
    if any(cell.startswith("=") for row in rows[1:] for cell in row):
        raise ValueError("the export lets a formula through")
    log(f"[{name}] export: {len(rows) - 1} entries, {len(body) / 1e6:.1f} MB in {elapsed:.2f} s")
    return elapsed


def run_database(name: str, url: str, size: Size, workdir: Path) -> dict:
    instance = workdir / f"instance-{name}"
    instance.mkdir(exist_ok=True)
    contest_id = prepare_database(url, size, instance)
    app = make_app(url, instance)
    client = signed_in_client(app)
    log(f"[{name}] measuring (load average {load_average()})")
    pages = moderation_pages(name, app, client, contest_id, size.runs)
    with app.app_context():
        figures_ms = best_ms(client, f"/contests/manage/{contest_id}/figures", size.runs)
    log(f"[{name}] figures page: {figures_ms:.0f} ms")
    draw_s, verify_s = draw(name, app, contest_id)
    with app.app_context():
        export_s = min(export(name, client, contest_id, size.entries) for _ in range(size.runs))
    return {
        "page_ms": max(pages.values()),
        "figures_ms": figures_ms,
        "draw_s": draw_s,
        "verify_s": verify_s,
        "export_s": export_s,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--entries", type=int, help="entries of the contest (default 100,000)")
    parser.add_argument("--runs", type=int, help="timed requests per page and export (best kept)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    size = QUICK if args.quick else FULL
    if args.entries is not None or args.runs is not None:
        size = Size(args.entries or size.entries, args.runs or size.runs)
        if size.entries < 20 or size.runs < 1:
            log("--entries must be at least 20 and --runs positive")
            return 2
    databases = chosen_databases(args)
    if databases is None:
        return 2
    started = time.perf_counter()
    log(f"{size.entries} entries; load average {load_average()}")
    results = run_each_database(
        databases, "contests", lambda name, url, workdir: run_database(name, url, size, workdir)
    )
    for name, result in results.items():
        figure(f"moderation_page_ms_{name}", f"{result['page_ms']:.0f}", "ms")
        figure(f"draw_s_{name}", f"{result['draw_s']:.2f}", "s")
        figure(f"export_s_{name}", f"{result['export_s']:.2f}", "s")
        figure(f"figures_page_ms_{name}", f"{result['figures_ms']:.0f}", "ms")
        figure(f"verify_draw_s_{name}", f"{result['verify_s']:.2f}", "s")
        warn_above_targets(name, [key for key, limit in TARGETS.items() if result[key] >= limit], args.quick)
    log(f"total {time.perf_counter() - started:.1f} s; load average {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
