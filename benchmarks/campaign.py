"""Benchmark: a campaign of 10,000 e-mails handed to a local SMTP server, and 1,000 letters as one PDF.

Usage (from the repository root, with the project's virtualenv):

    python benchmarks/campaign.py                 # full size, SQLite and PostgreSQL
    python benchmarks/campaign.py --quick         # smoke run for CI (a few seconds)
    python benchmarks/campaign.py --databases sqlite --recipients 2000

For each database the script builds a fresh schema with the Alembic migrations (SQLite: a
file in a temporary directory; PostgreSQL: `BENCH_POSTGRES_URL`, default
postgresql+psycopg://postgres@127.0.0.1:5432/test, whose `public` schema is DROPPED and
rebuilt), seeds a union with its logo, 8 shops and the people (each with e-mail consent, a
postal address and a few visits, so that every merge field has something to say), then:

1. e-mails: an e-mail campaign to everyone (no holdout) is started (`start_sending`: the
   audience frozen) and its batches are sent as the worker sends them (`send_batch`, batches
   of 500, no throttle) to an SMTP server running in another process (aiosmtpd, counting
   what it accepts); timed from the start to the last recipient marked sent; the server
   must have accepted exactly one message per recipient;
2. letters: a letter campaign to the first 1,000 people is started, and the letters PDF is
   downloaded from the campaign page through the Flask test client as a signed-in admin,
   timed from request to the last byte; the PDF must hold one page per letter.

Output: stdout carries only figures, one per line, exactly `name: value unit`:

    campaign_emails_s: N s        the slower database's time for the e-mails
    letters_pdf_s: N s            the slower database's time for the letters PDF
    campaign_emails_s_sqlite, campaign_emails_s_postgresql, letters_pdf_s_sqlite, letters_pdf_s_postgresql
    campaign_emails_per_s_<db>: N /s

The targets: 10,000 e-mails in under 60 s, a 1,000-page letters PDF in under 60 s.
"""

import argparse
import asyncio
import io
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    REPO_ROOT,
    add_common_arguments,
    analyze,
    chosen_databases,
    figure,
    insert_ids,
    load_average,
    log,
    reset_postgres,
    run_each_database,
    warn_above_targets,
)

ADMIN_EMAIL = "admin@bench.example.org"
ADMIN_PASSWORD = "benchmark-admin-password-2026"  # noqa: S105 - a throwaway database
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TARGETS = {"emails_s": 60.0, "letters_s": 60.0}
FIRST_NAMES = ("Camille", "Léa", "Chloé", "Manon", "Inès", "Jules", "Lucas", "Hugo", "Noé", "Zoé", "Éloïse", "Maël")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Lœuvre", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau")
STREETS = (
    "rue d'Austerlitz",
    "boulevard de la Croix-Rousse",
    "rue Dumenge",
    "place Sathonay",
    "montée de la Grande-Côte",
)
BODY = """Bonjour {{ prenom }},

Les commerçants du plateau vous attendent pour les fêtes : votre **{{ boutique_preferee }}**, bien sûr,
et pourquoi pas **{{ boutique_a_decouvrir }}**, que vous ne connaissez pas encore ?

- vos {{ points }} points sont valables dans toutes les boutiques ;
- le marché de Noël ouvre samedi, place de la Croix-Rousse.

À bientôt dans le quartier, l'équipe de {{ union }}."""


@dataclass(frozen=True)
class Size:
    recipients: int
    letters: int


FULL = Size(recipients=10_000, letters=1_000)
QUICK = Size(recipients=200, letters=20)


# --------------------------------------------------------------------------- the SMTP server, in its own process


def smtp_main(port: int) -> int:
    """Child process: accept everything on 127.0.0.1:port; print how many messages it took when stopped."""
    from aiosmtpd.controller import Controller

    class Counter:
        accepted = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            Counter.accepted += len(envelope.rcpt_tos)
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    loop.run_until_complete(stopped.wait())
    controller.stop()
    print(Counter.accepted, flush=True)
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __enter__(self):
        self.port = free_port()
        command = [sys.executable, str(Path(__file__).resolve()), "--smtp-server", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)  # noqa: S603
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server did not start")
        return self

    def accepted(self) -> int:
        """Stop the server and return how many messages it accepted."""
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=30)
        return int(output.strip().splitlines()[-1])

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --------------------------------------------------------------------------- the data


def sample_logo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    drawing = ImageDraw.Draw(image)
    drawing.rounded_rectangle((10, 10, 390, 390), radius=60, fill=(122, 31, 61, 255))
    drawing.rectangle((100, 160, 300, 320), outline=(250, 246, 238, 255), width=14)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_app(url: str, instance: Path, smtp_url: str = ""):
    from webapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark-secret-key-not-for-production",
            "CARD_SIGNING_KEY": "benchmark-card-signing-key-not-for-production",
            "BASE_URL": "https://vitrines.example.org",
            "OUTBOX_DIR": str(instance / "outbox"),
            "SMTP_URL": smtp_url,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "CAMPAIGN_RATE": 0,
            "CAMPAIGN_BATCH": 500,
            "FROZEN_NOW": NOW,
        }
    )


def prepare_database(url: str, size: Size, instance: Path) -> None:
    """A fresh schema by the migrations; the union with its logo, shops, an admin, the people."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from webapp.domain import accounts, branding, shops
    from webapp.domain.names import folded_names
    from webapp.extensions import db
    from webapp.models import Consent, Customer, PointsEntry, Union, Visit

    if url.startswith("postgresql"):
        reset_postgres(url)
    rng = random.Random(20261130)
    app = make_app(url, instance)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        session = db.session
        branding.update_union(
            session,
            Union(timezone="Europe/Paris"),
            name="Les Vitrines de la Croix-Rousse",
            tagline="",
            address="Place de la Croix-Rousse, 69004 Lyon",
            rules_text="",
            primary_color="#7a1f3d",
            accent_color="#8a2be2",
            points_per_euro=1,
            cooldown_minutes=10,
            logo=sample_logo(),
        )
        shop_ids = [
            shops.save_shop(
                session, None, slug=f"boutique-{n}", name=f"Boutique {n}", category="", address="", postcode="69004"
            ).id
            for n in range(1, 9)
        ]
        accounts.create_staff(
            session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, role="admin", now=NOW, check_password=False
        )
        people = []
        for index in range(size.recipients):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            folded_first, folded_last = folded_names(first, last)
            people.append(
                {
                    "first_name": first,
                    "last_name": last,
                    "first_name_folded": folded_first,
                    "last_name_folded": folded_last,
                    "email": f"client{index}@example.org",
                    "postcode": rng.choice(("69001", "69004", "69300")),
                    "street": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                    "town": "Lyon",
                    "source": "signup",
                    "created_at": NOW - timedelta(days=400),
                }
            )
        ids = insert_ids(session, Customer, people)
        consents = [
            {
                "customer_id": i,
                "channel": "email",
                "granted": True,
                "method": "form",
                "wording": "w",
                "recorded_at": NOW,
            }
            for i in ids
        ]
        visits, points = [], []
        for customer_id in ids:
            for visit in range(rng.randint(1, 5)):
                when = NOW - timedelta(days=rng.randint(1, 360))
                visits.append(
                    {
                        "customer_id": customer_id,
                        "shop_id": rng.choice(shop_ids[:4]),
                        "amount_cents": rng.randint(300, 6000),
                        "points": 10,
                        "visited_at": when,
                        "idempotency_key": f"bench-{customer_id}-{visit}",
                    }
                )
                points.append({"customer_id": customer_id, "kind": "earned", "points": 10, "created_at": when})
        for table, rows in ((Consent, consents), (Visit, visits), (PointsEntry, points)):
            for start in range(0, len(rows), 10_000):
                session.execute(insert(table), rows[start : start + 10_000])
        session.commit()
        db.session.remove()
        db.engine.dispose()
    analyze(url)
    log(f"seeded {size.recipients} people and {len(visits)} visits in {time.perf_counter() - started:.1f} s")


def new_campaign(session, channel: str, criteria):
    from webapp.domain import campaigns

    return campaigns.save_campaign(
        session,
        None,
        name=f"Noël ({channel})",
        channel=channel,
        criteria=criteria,
        subject="{{ prenom }}, le plateau vous attend pour les fêtes",
        body=BODY,
        cta_kind="offer",
        offer_code="NOEL-2026",
        holdout_percent=0,
        by_id=None,
        now=NOW,
    )


# --------------------------------------------------------------------------- the two measures


def send_emails(name: str, url: str, size: Size, instance: Path) -> float:
    from sqlalchemy import func, select

    from webapp.campaign_mail import send_batch
    from webapp.domain import campaigns, targeting
    from webapp.extensions import begin_write, db
    from webapp.models import CampaignRecipient

    with SmtpServer() as smtp:
        app = make_app(url, instance, f"smtp://127.0.0.1:{smtp.port}")
        with app.app_context():
            started = time.perf_counter()
            begin_write(db.session)
            campaign = new_campaign(db.session, "email", targeting.Criteria())
            queued = campaigns.start_sending(db.session, campaign, timezone="Europe/Paris", by_id=None, now=NOW)
            db.session.commit()
            campaign_id = campaign.id
            frozen = time.perf_counter() - started
            batches = 0
            while not send_batch(campaign_id).done:
                batches += 1
                if batches > size.recipients:
                    raise RuntimeError("the campaign does not end")
            elapsed = time.perf_counter() - started
            sent = db.session.scalar(
                select(func.count()).where(
                    CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status == "sent"
                )
            )
            db.session.rollback()
        accepted = smtp.accepted()
    log(
        f"[{name}] e-mails: {queued} recipients frozen in {frozen:.2f} s, {sent} sent in {elapsed:.1f} s "
        f"({sent / elapsed:.0f}/s); the SMTP server accepted {accepted}"
    )
    if not (queued == sent == accepted == size.recipients):
        raise ValueError(f"{size.recipients} recipients, {queued} queued, {sent} sent, {accepted} accepted")
    return elapsed


def letters(name: str, url: str, size: Size, instance: Path) -> float:
    from pypdf import PdfReader
    from sqlalchemy import select

    from webapp.domain import campaigns, targeting
    from webapp.extensions import begin_write, db
    from webapp.models import Customer, SavedTarget, SavedTargetMember

    app = make_app(url, instance)
    with app.app_context():
        begin_write(db.session)
        target = SavedTarget(name="Lettres", kind="bench", params={}, size=size.letters)
        db.session.add(target)
        db.session.flush()
        first = db.session.scalars(select(Customer.id).order_by(Customer.id).limit(size.letters)).all()
        db.session.add_all(SavedTargetMember(target_id=target.id, customer_id=customer_id) for customer_id in first)
        campaign = new_campaign(db.session, "letter", targeting.Criteria(saved_target_id=target.id))
        campaigns.start_sending(db.session, campaign, timezone="Europe/Paris", by_id=None, now=NOW)
        db.session.commit()
        campaign_id = campaign.id
    client = app.test_client()
    with app.app_context():
        if client.post("/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).status_code != 302:
            raise RuntimeError("admin sign-in failed")
    with app.app_context():
        started = time.perf_counter()
        response = client.get(f"/admin/campaigns/{campaign_id}/letters.pdf")
        body = response.get_data()
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"letters.pdf: status {response.status_code}")
    pages = len(PdfReader(io.BytesIO(body)).pages)
    log(f"[{name}] letters: {pages} pages, {len(body) / 1e6:.1f} MB in {elapsed:.1f} s")
    if pages != size.letters:
        raise ValueError(f"the letters PDF holds {pages} pages, expected {size.letters}")
    return elapsed


def run_database(name: str, url: str, size: Size, workdir: Path) -> dict:
    instance = workdir / f"instance-{name}"
    instance.mkdir(exist_ok=True)
    prepare_database(url, size, instance)
    log(f"[{name}] measuring (load average {load_average()})")
    return {"emails_s": send_emails(name, url, size, instance), "letters_s": letters(name, url, size, instance)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--recipients", type=int, help="e-mail recipients (default 10,000)")
    parser.add_argument("--letters", type=int, help="letters in the PDF (default 1,000)")
    parser.add_argument("--smtp-server", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.smtp_server:
        return smtp_main(args.smtp_server)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    size = QUICK if args.quick else FULL
    if args.recipients or args.letters:
        size = Size(args.recipients or size.recipients, args.letters or min(size.letters, args.recipients or 10**9))
        if size.letters > size.recipients or size.letters < 1:
            log("--letters must be between 1 and --recipients")
            return 2
    databases = chosen_databases(args)
    if databases is None:
        return 2
    started = time.perf_counter()
    log(f"{size.recipients} e-mail recipients, {size.letters} letters; load average {load_average()}")
    results = run_each_database(
        databases, "campaign", lambda name, url, workdir: run_database(name, url, size, workdir)
    )
    figure("campaign_emails_s", f"{max(r['emails_s'] for r in results.values()):.1f}", "s")
    figure("letters_pdf_s", f"{max(r['letters_s'] for r in results.values()):.1f}", "s")
    for name, result in results.items():
        figure(f"campaign_emails_s_{name}", f"{result['emails_s']:.1f}", "s")
        figure(f"campaign_emails_per_s_{name}", f"{size.recipients / result['emails_s']:.0f}", "/s")
        figure(f"letters_pdf_s_{name}", f"{result['letters_s']:.1f}", "s")
        warn_above_targets(name, [key for key, limit in TARGETS.items() if result[key] >= limit], args.quick)
    log(f"total {time.perf_counter() - started:.1f} s; load average {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
