"""Benchmark: RFM at the size of a large union, from the import to the pages.

Usage (from the repository root, with the project's virtualenv):

    python benchmarks/rfm.py                      # full size, SQLite and PostgreSQL
    python benchmarks/rfm.py --quick              # smoke run for CI (a few seconds)
    python benchmarks/rfm.py --databases sqlite --runs 5

The data set is generated from a fixed seed, so every run measures the same
data: 100,000 customers and 2,000,000 visits across 40 shops, over the three
years up to 30 November 2026. The skew is a town centre's: half the
customers came a few times, a loyal tenth comes every week or so and makes
most of the visits; shops differ in popularity (Zipf-like) and basket size;
most people keep to one to three shops; a third stopped coming at some point;
dates are whole days (many ties) and amounts are rounded to 10 cents. 97 % of
the customers are in the shared file before the import (names with accents and
ligatures, e-mail, most with a phone, a postcode of the district, 60 % with a
card, and a union-level reference); the other 3 % are new references that the
import creates. About 1 % of the visits are union-level (no shop).

For each database the script builds a fresh schema with the Alembic
migrations (SQLite: a file in a temporary directory; PostgreSQL:
`BENCH_POSTGRES_URL`, default postgresql+psycopg://postgres@127.0.0.1:5432/test,
whose `public` schema is DROPPED and rebuilt), seeds the union, the shops and
the people, then:

1. import: writes the visits to a CSV file (customer_ref,date,amount,shop) and
   runs `flask --app webapp import-visits FILE` in a subprocess, timed from
   start to exit (then ANALYZE on PostgreSQL, as autovacuum would);
2. refresh: computes and stores the union-wide snapshot as of 2026-11-30
   (as `flask rfm refresh` does), in a fresh process each time (`--runs`
   times, best time kept), which reports its time and its peak resident
   memory (VmHWM); then `flask rfm export` in a subprocess, checked line by
   line against the snapshot; then the nightly refresh once (the union, each
   of the 40 shops and the cross-shop pair counts, as the worker does);
3. dashboards: every back-office dashboard page, rendered through the Flask
   test client as a signed-in admin (union-wide and one shop's scope, a
   segment list, movement between two snapshots and one of its cells,
   cross-shop prescription and its list of customers of A who never visited
   B, zone coverage): one warm-up, then the best of `--runs` requests;
4. search: the customer search page by name (accented, any case, one and two
   words), by e-mail, by phone, by card number and by postcode, same way.

Output: stdout carries only figures, one per line, exactly `name: value unit`:

    rfm_refresh_s_sqlite: N s          union-wide refresh (best run), SQLite
    rfm_refresh_s_postgresql: N s      same on PostgreSQL
    rfm_refresh_peak_mb: N MB          largest peak RSS of a refresh process (both databases)
    import_visits_s: N s               slowest import of the visits file (both databases)
    dashboard_ms: N ms                 slowest dashboard page (both databases)
    search_ms: N ms                    slowest customer search (both databases)

and the same per database with a suffix (`import_visits_s_sqlite`,
`rfm_refresh_peak_mb_postgresql`, `dashboard_ms_postgresql`, ...), plus
`rfm_refresh_all_s_<db>` (the nightly refresh), `rfm_cross_shop_s_<db>` (its
cross-shop pair counts) and `rfm_export_s_<db>` (the export command, which
refreshes the snapshot again and writes the CSV file).

Everything else goes to stderr: each page and each search with its time, the
load average, the sizes. Peak memory is the Python process's; PostgreSQL's own
backend memory is not in it (its sorts are bounded by work_mem).

Sizes: full = 100,000 customers, 2,000,000 visits, 40 shops, 3 runs (a few
minutes per database, most of it spent generating and seeding);
--quick = 600 customers, 6,000 visits, 6 shops, 1 run (a few seconds per database).
Without PostgreSQL, --quick runs SQLite only (with a notice); a full run needs it.
Exit status: 1 if a result is wrong (the import, the snapshot or the export
do not hold what was generated, or a search finds nobody), 2 if a run could
not be carried out. Targets on a 2-core machine (reported on stderr, not
enforced by the exit status): refresh under 2 s with a peak under 300 MB,
pages under 300 ms, searches under 100 ms, the import under 60 s.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _common import (
    REPO_ROOT,
    add_common_arguments,
    analyze,
    best_ms,
    chosen_databases,
    figure,
    insert_ids,
    load_average,
    log,
    luhn_number,
    reset_postgres,
    run_each_database,
    warn_above_targets,
)

SEED = 20261130
AS_OF = date(2026, 11, 30)
EARLIER = AS_OF - timedelta(days=28)  # the second snapshot, for the movement pages
HISTORY_DAYS = 3 * 365
TIMEZONE = "Europe/Paris"
ADMIN_EMAIL = "admin@bench.example.org"
ADMIN_PASSWORD = "benchmark-admin-password-2026"  # noqa: S105 - a throwaway database
TARGETS = {"refresh_s": 2.0, "peak_mb": 300.0, "page_ms": 300.0, "search_ms": 100.0, "import_s": 60.0}
ENV = {
    "SECRET_KEY": "benchmark-secret-key-0123456789abcdef-0123456789",
    "CARD_SIGNING_KEY": "benchmark-card-signing-key-0123456789abcdef",
    "BASE_URL": "http://127.0.0.1:5000",
    "QUARTIER_ENV": "development",
}


@dataclass(frozen=True)
class Size:
    customers: int
    visits: int
    shops: int
    runs: int


FULL = Size(customers=100_000, visits=2_000_000, shops=40, runs=3)
QUICK = Size(customers=600, visits=6_000, shops=6, runs=1)


# --------------------------------------------------------------------------- the data set

FIRST_NAMES = (
    "Marie", "Camille", "Léa", "Chloé", "Manon", "Emma", "Inès", "Zoé", "Jade", "Louise", "Hélène", "Éloïse",
    "Anaïs", "Noémie", "Gaëlle", "Maëlle", "Céline", "Amélie", "Émilie", "Sophie", "Julie", "Nathalie", "Isabelle",
    "Françoise", "Thérèse", "Agnès", "Bérénice", "Clémence", "Jean", "Pierre", "Lucas", "Hugo", "Théo", "Louis",
    "Raphaël", "Gabriel", "Noé", "Loïc", "Jérôme", "François", "Clément", "Benoît", "Joël", "Stéphane", "Frédéric",
    "Nicolas", "Thomas", "Julien", "Mathieu", "Sébastien", "Jean-Pierre", "Marie-Hélène", "Anne-Sophie", "Mohamed",
    "Yasmine", "Aïcha", "Karim", "Nguyễn", "Œlina", "Æsa",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
    "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier",
    "Faure", "Rousseau", "Blanc", "Guérin", "Müller", "Henry", "Roussel", "Perrin", "Morin", "Mathieu", "Clément",
    "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen",
    "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Roche", "Noël", "Meyer", "Meunier", "Marchand", "Dufour",
    "Blanchard", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Renard", "Arnaud", "Caron",
    "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Lacroix",
    "Fabre", "Dupuis", "Olivier", "Da Silva", "Hubert", "Rivière", "Le Gall", "Le Goff", "Ménard", "Fleury",
    "Prévost", "Carré", "Rémy", "Lœuvre", "Dubœuf", "de La Fontaine", "N'Diaye", "Bénard", "Pérez", "Éluard",
)  # fmt: skip
SHOP_KINDS = (  # category, mean basket in euros
    ("Boulangerie", 6), ("Café", 5), ("Presse", 8), ("Primeur", 14), ("Fromagerie", 22), ("Boucherie", 28),
    ("Fleuriste", 25), ("Librairie", 21), ("Caviste", 32), ("Pharmacie", 18), ("Mode", 65), ("Chaussures", 80),
    ("Opticien", 140), ("Coiffeur", 38), ("Bijouterie", 120), ("Jouets", 30), ("Épicerie fine", 24),
    ("Restaurant", 35), ("Pressing", 16), ("Quincaillerie", 19),
)  # fmt: skip
POSTCODES = ("69001", "69002", "69003", "69004", "69005", "69006", "69007", "69300", "69100", "69009")
POSTCODE_WEIGHTS = (12, 10, 14, 25, 9, 8, 7, 6, 5, 4)


def _weighted(rng: random.Random, values, weights):
    return rng.choices(values, weights=weights, k=1)[0]


def national(phone: str) -> str:
    """+33612345678 as a French person types it: 06 12 34 56 78."""
    digits = "0" + phone[3:]
    return " ".join(digits[k : k + 2] for k in range(0, 10, 2))


@dataclass
class DataSet:
    shops: list[dict]  # slug, name, category
    people: list[dict]  # the people seeded before the import
    visits_file: Path
    visits: int
    union_level: int
    new_references: int
    searches: dict[str, str]  # label -> query typed in the search box


def visit_counts(rng: random.Random, customers: int, total: int) -> list[int]:
    """Visits per customer: most came a few times, a loyal tenth very often; summed exactly to `total`."""
    counts = []
    for _ in range(customers):
        kind = rng.random()
        if kind < 0.50:
            counts.append(1 + int(rng.expovariate(1 / 2.5)))
        elif kind < 0.88:
            counts.append(rng.randint(5, 40))
        else:
            counts.append(min(900, int(60 + rng.paretovariate(1.6) * 40)))
    scale = total / sum(counts)
    counts = [max(1, round(count * scale)) for count in counts]
    difference = total - sum(counts)
    loyal = sorted(range(customers), key=lambda index: -counts[index])[: max(1, customers // 10)]
    step = 1 if difference > 0 else -1
    index = 0
    while difference:
        position = loyal[index % len(loyal)]
        if counts[position] + step >= 1:
            counts[position] += step
            difference -= step
        index += 1
    return counts


def generate(size: Size, workdir: Path) -> DataSet:
    """The reproducible data set: shops, people, and the visits file (CSV) to import."""
    from webapp.domain.names import normalise_name

    started = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not secrets
    shops = []
    for n in range(size.shops):
        category, basket = SHOP_KINDS[n % len(SHOP_KINDS)]
        shops.append(
            {"slug": f"shop-{n + 1:02d}", "name": f"{category} {n + 1}", "category": category, "basket": basket}
        )
    popularity = [1 / (rank + 1) ** 0.9 for rank in range(size.shops)]

    people = []
    numbers: set[str] = set()
    last_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(LAST_NAMES))]
    first_weights = [1 / (rank + 1) ** 0.5 for rank in range(len(FIRST_NAMES))]
    known = round(size.customers * 0.97)
    for i in range(known):
        first = _weighted(rng, FIRST_NAMES, first_weights)
        last = _weighted(rng, LAST_NAMES, last_weights)
        person = {
            "reference": f"C{i + 1:06d}",
            "first_name": first,
            "last_name": last,
            "email": f"{normalise_name(first).replace(' ', '')}.{normalise_name(last).replace(' ', '')}{i + 1}"
            f"@exemple.fr".replace("'", ""),
            "phone": f"+336{rng.randrange(10**7, 10**8)}" if rng.random() < 0.7 else None,
            "postcode": _weighted(rng, POSTCODES, POSTCODE_WEIGHTS),
            "card": None,
        }
        if rng.random() < 0.6:
            number = luhn_number(rng)
            while number in numbers:
                number = luhn_number(rng)
            numbers.add(number)
            person["card"] = number
        people.append(person)
    references = [person["reference"] for person in people]
    references += [f"N{i + 1:06d}" for i in range(size.customers - known)]

    counts = visit_counts(rng, size.customers, size.visits)
    first_day = AS_OF - timedelta(days=HISTORY_DAYS - 1)
    union_level = 0
    path = workdir / "visits.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("customer_ref,date,amount,shop\n")
        lines = []
        for reference, count in zip(references, counts, strict=True):
            favourites = rng.choices(range(size.shops), weights=popularity, k=1 + min(4, count // 25))
            start = rng.randrange(HISTORY_DAYS)
            end = HISTORY_DAYS - 1 if rng.random() < 0.65 else rng.randrange(start, HISTORY_DAYS)
            for _ in range(count):
                if rng.random() < 0.01:
                    shop = None
                    union_level += 1
                elif rng.random() < 0.12:
                    shop = rng.choices(range(size.shops), weights=popularity, k=1)[0]
                else:
                    shop = favourites[int(rng.random() * len(favourites))]
                day = first_day + timedelta(days=rng.randint(start, end))
                basket = shops[shop]["basket"] if shop is not None else 20
                cents = 0 if rng.random() < 0.02 else max(10, round(basket * rng.lognormvariate(0, 0.45) * 10) * 10)
                when = day.isoformat() if rng.random() < 0.8 else day.strftime("%d/%m/%Y")
                slug = shops[shop]["slug"] if shop is not None else ""
                lines.append(f"{reference},{when},{cents // 100}.{cents % 100:02d},{slug}\n")
                if len(lines) >= 50_000:
                    out.writelines(lines)
                    lines = []
        out.writelines(lines)
    with_card = next(person for person in people if person["card"])
    with_phone = next(person for person in people if person["phone"])
    sample = people[len(people) // 2]
    searches = {
        "name, one word, accents and case": "HÉLÈNE",
        "name, last name with ligature": "loeuv",
        "name, two words": "marie dup",
        "name, compound": "de la font",
        "email": sample["email"].upper(),
        "phone": national(with_phone["phone"]),
        "card number": " ".join(with_card["card"][k : k + 4] for k in (0, 4, 8)),
        "postcode": "69004",
    }
    log(
        f"generated {len(people)} people, {size.customers - known} new references and {size.visits} visits "
        f"({union_level} union-level) in {time.perf_counter() - started:.1f} s; "
        f"{path.stat().st_size / 1e6:.0f} MB of CSV"
    )
    return DataSet(shops, people, path, size.visits, union_level, size.customers - known, searches)


# --------------------------------------------------------------------------- databases


def make_app(url: str, instance: Path):
    from webapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": ENV["SECRET_KEY"],
            "CARD_SIGNING_KEY": ENV["CARD_SIGNING_KEY"],
            "BASE_URL": ENV["BASE_URL"],
            "OUTBOX_DIR": str(instance / "outbox"),
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def prepare_database(url: str, data: DataSet, instance: Path) -> None:
    """A fresh schema by the migrations; the union, its shops, the people already in the file, an admin."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from webapp.domain import accounts, branding, shops
    from webapp.domain.names import folded_names
    from webapp.extensions import db
    from webapp.models import Card, Customer, CustomerReference, Union

    if url.startswith("postgresql"):
        reset_postgres(url)
    app = make_app(url, instance)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        session = db.session
        branding.update_union(
            session,
            Union(timezone=TIMEZONE),
            name="Quartier Bench",
            tagline="",
            address="",
            rules_text="",
            primary_color="#1f3a93",
            accent_color="#8a2be2",
            points_per_euro=1,
            cooldown_minutes=10,
        )
        for shop in data.shops:
            shops.save_shop(
                session,
                None,
                slug=shop["slug"],
                name=shop["name"],
                category=shop["category"],
                address="1 rue du Banc",
                postcode="69004",
            )
        accounts.create_staff(
            session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, role="admin", now=now, check_password=False
        )
        rows = []
        for person in data.people:
            first, last = folded_names(person["first_name"], person["last_name"])
            rows.append(
                {
                    "first_name": person["first_name"],
                    "last_name": person["last_name"],
                    "first_name_folded": first,
                    "last_name_folded": last,
                    "email": person["email"],
                    "phone": person["phone"],
                    "postcode": person["postcode"],
                    "reference": person["reference"],
                    "source": "import",
                    "created_at": now,
                }
            )
        ids = insert_ids(session, Customer, rows)
        session.execute(
            insert(CustomerReference),
            [
                {"customer_id": customer_id, "shop_id": None, "reference": person["reference"], "created_at": now}
                for person, customer_id in zip(data.people, ids, strict=True)
            ],
        )
        session.execute(
            insert(Card),
            [
                {
                    "number": person["card"],
                    "version": 1,
                    "customer_id": customer_id,
                    "status": "active",
                    "issued_at": now,
                }
                for person, customer_id in zip(data.people, ids, strict=True)
                if person["card"]
            ],
        )
        session.commit()
        db.session.remove()
        db.engine.dispose()
    log(
        f"seeded the union, {len(data.shops)} shops and {len(data.people)} people "
        f"in {time.perf_counter() - started:.1f} s"
    )


def subprocess_env(url: str, instance: Path) -> dict:
    env = dict(os.environ)
    env.update(ENV)
    env["DATABASE_URL"] = url
    env["OUTBOX_DIR"] = str(instance / "outbox")
    env.pop("HUEY_IMMEDIATE", None)
    return env


def run_flask(args: list[str], url: str, instance: Path, timeout: float) -> tuple[float, str]:
    """`flask --app webapp ARGS` in a subprocess; (seconds from start to exit, its standard output)."""
    command = [sys.executable, "-m", "flask", "--app", "webapp", *args]
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and command
        command,
        cwd=REPO_ROOT,
        env=subprocess_env(url, instance),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args[:1])} exited with {done.returncode}: {done.stderr[-2000:]}")
    return elapsed, done.stdout


def count(url: str, sql: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the refresh, in its own process


def peak_mb() -> float:
    """This process's peak resident memory (MB): VmHWM, which starts afresh at exec (getrusage's
    maximum would carry over the parent's, which holds the generated data set)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def refresh_job(url: str, instance: str, as_of: str, kind: str) -> int:
    """Child process: the union-wide refresh ("union") or the nightly one, union, every shop and the
    cross-shop pair counts ("all"); prints its times and the process's peak memory as JSON."""
    from sqlalchemy import select

    from webapp.domain import rfm
    from webapp.extensions import begin_write, db
    from webapp.models import RfmSnapshot

    pair_counts = {"seconds": 0.0}
    store_cross_shop = rfm.store_cross_shop

    def timed_store_cross_shop(*args, **kwargs):
        started = time.perf_counter()
        store_cross_shop(*args, **kwargs)
        pair_counts["seconds"] += time.perf_counter() - started

    rfm.store_cross_shop = timed_store_cross_shop
    app = make_app(url, Path(instance))
    with app.app_context():
        db.session.execute(select(RfmSnapshot.id).limit(1)).all()  # connect before measuring
        db.session.rollback()
        baseline = peak_mb()
        day = date.fromisoformat(as_of)
        started = time.perf_counter()
        begin_write(db.session)
        if kind == "union":
            snapshots = [rfm.refresh(db.session, rfm.Scope(as_of=day, timezone=TIMEZONE), now=datetime.now(UTC))]
        else:
            snapshots = rfm.refresh_all(db.session, as_of=day, timezone=TIMEZONE, now=datetime.now(UTC))
        db.session.commit()
        elapsed = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "seconds": elapsed,
                    "cross_shop_s": pair_counts["seconds"],
                    "peak_mb": peak_mb(),
                    "baseline_mb": baseline,
                    "people": snapshots[0].people,
                    "snapshots": len(snapshots),
                }
            )
        )
    return 0


def run_refresh(url: str, instance: Path, kind: str) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--refresh-job",
        url,
        str(instance),
        AS_OF.isoformat(),
        kind,
    ]
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        command,
        cwd=REPO_ROOT,
        env=subprocess_env(url, instance),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"refresh job exited with {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- pages and searches, in this process


def pages_and_searches(name: str, url: str, data: DataSet, instance: Path, runs: int) -> tuple[dict, dict]:
    """Times of each dashboard page and each search (ms), through the Flask test client as an admin."""
    from sqlalchemy import func, select

    from webapp.domain import dashboards, rfm
    from webapp.extensions import db
    from webapp.models import RfmScore, Shop

    app = make_app(url, instance)
    now = datetime.now(UTC)
    with app.app_context():
        shop_a = db.session.scalar(select(Shop.id).where(Shop.slug == data.shops[0]["slug"]))
        shop_b = db.session.scalar(select(Shop.id).where(Shop.slug == data.shops[1]["slug"]))
        started = time.perf_counter()
        snapshots = {}
        for as_of, shop_id in ((EARLIER, None), (EARLIER, shop_a), (AS_OF, shop_a)):
            scope = rfm.Scope(as_of=as_of, timezone=TIMEZONE, shop_id=shop_id)
            snapshots[(as_of, shop_id)] = rfm.refresh(db.session, scope, now=now).id
        snapshots[(AS_OF, None)] = rfm.latest_snapshot(db.session, None).id
        db.session.commit()
        log(
            f"[{name}] snapshots for the pages ({EARLIER} and {AS_OF}, union and one shop): "
            f"{time.perf_counter() - started:.1f} s"
        )
        latest = snapshots[(AS_OF, None)]
        segment = db.session.scalar(
            select(RfmScore.segment)
            .where(RfmScore.snapshot_id == latest)
            .group_by(RfmScore.segment)
            .order_by(func.count().desc())
            .limit(1)
        )
        moves = dashboards.movement(db.session, snapshots[(EARLIER, None)], latest).counts
        was, became = max(((k, v) for k, v in moves.items() if k[0] != k[1]), key=lambda item: item[1])[0]
        db.session.rollback()
    client = app.test_client()
    with app.app_context():
        response = client.post("/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"admin sign-in failed: status {response.status_code}")
    pages = {
        "segments (union)": "/admin/dashboards",
        "segments (one shop)": f"/admin/dashboards?shop={shop_a}",
        f"segment list ({segment})": f"/admin/dashboards/segments/{segment}",
        "distributions (union)": "/admin/dashboards/distributions",
        "distributions (one shop)": f"/admin/dashboards/distributions?shop={shop_a}",
        "movement (union)": "/admin/dashboards/movement",
        "movement (one shop)": f"/admin/dashboards/movement?shop={shop_a}",
        f"movement cell ({was} -> {became})": f"/admin/dashboards/movement/people?was={was}&became={became}",
        "cross-shop (all history)": f"/admin/dashboards/cross-shop?shop={shop_a}",
        "cross-shop (12 months)": f"/admin/dashboards/cross-shop?shop={shop_a}&months=12",
        "cross-shop list A never at B": f"/admin/dashboards/cross-shop/{shop_a}/{shop_b}",
        "cross-shop list A never at B (12 months)": f"/admin/dashboards/cross-shop/{shop_a}/{shop_b}?months=12",
        "zone coverage": "/admin/dashboards/zones",
    }
    page_times = {}
    for label, path in pages.items():
        with app.app_context():
            page_times[label] = best_ms(client, path, runs)
        log(f"[{name}] page {label}: {page_times[label]:.0f} ms  ({path})")
    search_times = {}
    for label, query in data.searches.items():
        from urllib.parse import urlencode

        with app.app_context():
            search_times[label] = best_ms(client, "/admin/customers?" + urlencode({"q": query}), runs)
            found = search_found(client, query)
        log(f"[{name}] search {label} {query!r}: {search_times[label]:.0f} ms, {found}")
        if found == "nobody":
            raise ValueError(f"search {query!r} found nobody")
    return page_times, search_times


def search_found(client, query: str) -> str:
    """What the search page says it found (its status line), for the log; "nobody" when it found nobody."""
    import html
    import re
    from urllib.parse import urlencode

    text = html.unescape(client.get("/admin/customers?" + urlencode({"q": query})).get_data(as_text=True))
    status = re.search(r'<p role="status">\s*([^<]+?)\s*</p>', text)
    if status is None:
        return "no status line"
    found = status.group(1)
    return "nobody" if re.match(r"^0\D", found) else found.split(":")[0]


# --------------------------------------------------------------------------- one database, then main


def run_database(name: str, url: str, data: DataSet, size: Size, workdir: Path) -> dict:
    instance = workdir / f"instance-{name}"
    instance.mkdir(exist_ok=True)
    prepare_database(url, data, instance)

    log(f"[{name}] importing {data.visits} visits with `flask import-visits` (load average {load_average()})")
    import_s, output = run_flask(["import-visits", str(data.visits_file)], url, instance, timeout=900)
    log(f"[{name}] import: {import_s:.1f} s; {output.strip().splitlines()[0] if output.strip() else ''}")
    visits = count(url, "SELECT count(*) FROM visit")
    people = count(url, "SELECT count(*) FROM customer")
    if visits != data.visits or people != len(data.people) + data.new_references:
        raise ValueError(
            f"after the import: {visits} visits and {people} people, expected {data.visits} and "
            f"{len(data.people) + data.new_references}"
        )
    analyze(url)

    refreshes = []
    for run in range(size.runs):
        result = run_refresh(url, instance, "union")
        refreshes.append(result)
        log(
            f"[{name}] refresh {run + 1}/{size.runs}: {result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB "
            f"(app loaded: {result['baseline_mb']:.0f} MB), {result['people']} people; load average {load_average()}"
        )
    if refreshes[0]["people"] != size.customers:
        raise ValueError(f"the snapshot holds {refreshes[0]['people']} people, expected {size.customers}")
    best = min(refreshes, key=lambda result: result["seconds"])

    export_path = workdir / f"rfm-{name}.csv"
    export_s, _output = run_flask(
        ["rfm", "export", str(export_path), "--as-of", AS_OF.isoformat()], url, instance, timeout=900
    )
    with export_path.open(encoding="utf-8", newline="") as exported:
        reader = csv.reader(exported)
        header = next(reader)
        lines = sum(1 for _ in reader)
    if lines != size.customers or header[0] != "customer_ref":
        raise ValueError(f"the export holds {lines} lines (header {header[:2]}), expected {size.customers}")
    log(f"[{name}] export (refresh again, then {lines} lines of CSV): {export_s:.1f} s")

    nightly = run_refresh(url, instance, "all")
    log(
        f"[{name}] nightly refresh: {nightly['snapshots']} snapshots (union and each shop) and the cross-shop "
        f"pair counts in {nightly['seconds']:.1f} s, of which pair counts {nightly['cross_shop_s']:.2f} s; "
        f"peak {nightly['peak_mb']:.0f} MB"
    )
    if nightly["snapshots"] != size.shops + 1:
        raise ValueError(f"the nightly refresh stored {nightly['snapshots']} snapshots, expected {size.shops + 1}")

    page_times, search_times = pages_and_searches(name, url, data, instance, max(3, size.runs))
    return {
        "import_s": import_s,
        "refresh_s": best["seconds"],
        "refresh_all_s": nightly["seconds"],
        "cross_shop_s": nightly["cross_shop_s"],
        "peak_mb": max(result["peak_mb"] for result in [*refreshes, nightly]),
        "export_s": export_s,
        "pages": page_times,
        "searches": search_times,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--runs", type=int, help="refresh runs (best kept) and timed requests per page")
    parser.add_argument("--refresh-job", nargs=4, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.refresh_job:
        return refresh_job(*args.refresh_job)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    size = QUICK if args.quick else FULL
    if args.runs is not None:
        if args.runs < 1:
            log("--runs must be positive")
            return 2
        size = Size(size.customers, size.visits, size.shops, args.runs)
    wanted = chosen_databases(args)
    if wanted is None:
        return 2
    started = time.perf_counter()
    log(f"{size.customers} customers, {size.visits} visits, {size.shops} shops; load average {load_average()}")
    generated = functools.cache(lambda workdir: generate(size, workdir))  # once, for every database
    results = run_each_database(
        wanted, "rfm", lambda name, url, workdir: run_database(name, url, generated(workdir), size, workdir)
    )
    for name, result in results.items():
        figure(f"rfm_refresh_s_{name}", f"{result['refresh_s']:.2f}", "s")
    figure("rfm_refresh_peak_mb", f"{max(r['peak_mb'] for r in results.values()):.0f}", "MB")
    figure("import_visits_s", f"{max(r['import_s'] for r in results.values()):.1f}", "s")
    figure("dashboard_ms", f"{max(max(r['pages'].values()) for r in results.values()):.0f}", "ms")
    figure("search_ms", f"{max(max(r['searches'].values()) for r in results.values()):.0f}", "ms")
    for name, result in results.items():
        figure(f"rfm_refresh_all_s_{name}", f"{result['refresh_all_s']:.1f}", "s")
        figure(f"rfm_cross_shop_s_{name}", f"{result['cross_shop_s']:.2f}", "s")
        figure(f"rfm_refresh_peak_mb_{name}", f"{result['peak_mb']:.0f}", "MB")
        figure(f"rfm_export_s_{name}", f"{result['export_s']:.1f}", "s")
        figure(f"import_visits_s_{name}", f"{result['import_s']:.1f}", "s")
        figure(f"dashboard_ms_{name}", f"{max(result['pages'].values()):.0f}", "ms")
        figure(f"search_ms_{name}", f"{max(result['searches'].values()):.0f}", "ms")
        slowest = max(result["pages"], key=result["pages"].get)
        log(f"[{name}] slowest page: {slowest}; slowest search: {max(result['searches'], key=result['searches'].get)}")
        notes = []
        if result["refresh_s"] >= TARGETS["refresh_s"]:
            notes.append(f"refresh {result['refresh_s']:.2f} s")
        if result["peak_mb"] >= TARGETS["peak_mb"]:
            notes.append(f"peak memory {result['peak_mb']:.0f} MB")
        if max(result["pages"].values()) >= TARGETS["page_ms"]:
            notes.append(f"page {slowest}")
        if max(result["searches"].values()) >= TARGETS["search_ms"]:
            notes.append("a search")
        if result["import_s"] >= TARGETS["import_s"]:
            notes.append(f"import {result['import_s']:.0f} s")
        warn_above_targets(name, notes, args.quick)
    log(f"total {time.perf_counter() - started:.1f} s; load average {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
