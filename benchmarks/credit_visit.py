"""Benchmark: crediting visits through the JSON API, under gunicorn, from concurrent clients.

Usage (from the repository root, with the project's virtualenv):

    python benchmarks/credit_visit.py                 # full size, SQLite and PostgreSQL
    python benchmarks/credit_visit.py --quick         # smoke run for CI (a few seconds)
    python benchmarks/credit_visit.py --databases sqlite --clients 16 --requests 4000

For each database the script builds a fresh schema with the Alembic migrations
(SQLite: a file in a temporary directory; PostgreSQL: `BENCH_POSTGRES_URL`,
default postgresql+psycopg://postgres@127.0.0.1:5432/test, whose `public`
schema is DROPPED and rebuilt -- it is the test suite's database, and the two
never run at the same time) and seeds it like a union in service: its settings
with a logo uploaded through the back office's code path, a few shops with one
API key each, thousands of customers with a card and a few past visits each
(older than the cooldown), then fresh planner statistics (ANALYZE). It starts
`gunicorn -w 2 'webapp:create_app()'` on a free port of 127.0.0.1 and waits for
/healthz. A separate client process (fresh interpreter, standard library only,
so it stays light on the two cores it shares with the server and the database)
runs a fixed number of threads, each sending `POST /api/v1/visits` one after
the other (http.client; gunicorn's sync workers close the connection after
every answer, so each request opens a new loopback connection). Every request
has a fresh Idempotency-Key and a distinct (card, shop) pair, so none may hit
the cooldown: every answer must be 201. A short warm-up precedes the measured
phase. Request count and time are bounded; gunicorn is always terminated.

The API's rate limiting is switched OFF for the benchmark (RATELIMIT_ENABLED=0
in gunicorn's environment): the per-key limit (config API_RATE_LIMIT, default
600 per minute) would otherwise refuse most of the load this measures.

Output: stdout carries only figures, one per line, exactly `name: value unit`:

    credit_visits_per_s_<db>: N /s     2xx answers per second, measured phase
    credit_p50_ms_<db>: N ms           latency of one request, as the client sees it
    credit_p99_ms_<db>: N ms
    credit_worker_cpu_ms_<db>: N ms    CPU time of gunicorn's workers per request (Linux /proc)
    credit_requests_<db>: N requests   requests sent in the measured phase
    credit_non_2xx_<db>: N requests    answers other than 2xx and transport errors (warm-up included)
    lost_or_duplicated: N              |visits in the database - 2xx answers|, summed
                                       over every run (warm-ups included); must be 0

Everything else goes to stderr, including the CPU time per request of the
workers, the client, PostgreSQL and the whole machine (from /proc), and a
notice when other processes or the hypervisor took a large share of the CPUs
(the figures are then not representative).

Sizes: full = 6000 cards x 4 shops, 5 past visits per card, 8 client threads,
400 warm-up + 8000 measured requests per database (about a minute each);
--quick = 200 cards x 2 shops, 40 + 250 requests (about 10 s for both
databases). Without PostgreSQL, --quick runs SQLite only (with a notice); a
full run needs it. Exit status: 1 if lost_or_duplicated is not 0 or any
answer was not 2xx, 2 if a run could not be carried out. Target on a 2-core
machine: >= 300 credited visits/s with a p99 under 100 ms on PostgreSQL
(reported on stderr, not enforced by the exit status).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from _common import (
    REPO_ROOT,
    add_common_arguments,
    chosen_databases,
    figure,
    load_average,
    log,
    luhn_number,
    reset_postgres,
    run_each_database,
)

GUNICORN = Path(sys.executable).with_name("gunicorn")
TARGET_PER_S, TARGET_P99_MS = 300, 100


@dataclass(frozen=True)
class Size:
    cards: int
    shops: int
    history: int  # past visits per card (older than the cooldown), so tables and planner stats look lived-in
    warmup: int
    requests: int
    clients: int
    phase_seconds: float  # cap on each phase; requests not sent by then are dropped


FULL = Size(cards=6000, shops=4, history=5, warmup=400, requests=8000, clients=8, phase_seconds=90)
QUICK = Size(cards=200, shops=2, history=2, warmup=40, requests=250, clients=8, phase_seconds=4)


# --------------------------------------------------------------------------- client process
# Standard library only: this runs in a fresh interpreter started with --client-job.


def _client_phase(host: str, port: int, clients: int, items: list, cap_seconds: float) -> dict:
    """Send `items` from `clients` threads; per-request status and latency (ms)."""
    results: list = [None] * len(items)
    counter = itertools.count()
    started = time.perf_counter()
    deadline = started + cap_seconds
    ends = [started] * clients

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=20)
        try:
            while time.perf_counter() < deadline:
                index = next(counter)
                if index >= len(items):
                    break
                secret, card, amount = items[index]
                body = json.dumps({"card": card, "amount_cents": amount})
                headers = {
                    "Authorization": f"Bearer {secret}",
                    "Idempotency-Key": str(uuid.uuid4()),
                    "Content-Type": "application/json",
                }
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/api/v1/visits", body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    if response.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException):
                    status = 0
                    conn.close()
                t1 = time.perf_counter()
                results[index] = (status, (t1 - t0) * 1000.0)
                ends[slot] = t1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(slot,), daemon=True) for slot in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [r for r in results if r is not None]
    return {
        "elapsed": max(ends) - started,
        "statuses": [status for status, _ in done],
        "latencies_ms": [latency for _, latency in done],
    }


def client_main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    output = {}
    for phase in ("warmup", "measured"):
        output[phase] = _client_phase(job["host"], job["port"], job["clients"], job[phase], job["phase_seconds"])
    Path(job["output"]).write_text(json.dumps(output))
    return 0


# --------------------------------------------------------------------------- database setup


def sample_logo() -> bytes:
    """A plain 640x640 PNG logo, as a union would upload it in the back office."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (640, 640), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, 600, 600), fill=(31, 58, 147, 255))
    draw.rectangle((200, 180, 440, 460), fill=(228, 87, 46, 255))
    for offset in range(0, 640, 40):
        draw.line((0, offset, 640, 640 - offset), fill=(255, 255, 255, 128), width=6)
    draw.text((250, 300), "Quartier", fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed_history(session, size: Size, shop_ids: list, cards: list, now, rng: random.Random) -> None:
    """`size.history` past visits per card (one to ninety days ago) with their points."""
    from datetime import timedelta

    from sqlalchemy import insert

    from webapp.models import PointsEntry, Visit

    rows = []
    for card_id, customer_id in cards:
        for _ in range(size.history):
            when = now - timedelta(days=1 + rng.random() * 89)
            amount = rng.randrange(100, 20000)
            rows.append(
                {
                    "customer_id": customer_id,
                    "card_id": card_id,
                    "shop_id": rng.choice(shop_ids),
                    "amount_cents": amount,
                    "points": amount // 100,
                    "visited_at": when,
                    "source": "counter",
                    "idempotency_key": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                    "created_at": when,
                }
            )
    if not rows:
        return
    visit_ids = session.scalars(insert(Visit).returning(Visit.id, sort_by_parameter_order=True), rows).all()
    session.execute(
        insert(PointsEntry),
        [
            {
                "customer_id": row["customer_id"],
                "visit_id": visit_id,
                "kind": "earned",
                "points": row["points"],
                "created_at": row["created_at"],
            }
            for row, visit_id in zip(rows, visit_ids, strict=True)
        ],
    )


def prepare_database(url: str, env: dict, size: Size, instance: Path) -> dict:
    """Migrate an empty database and seed it; returns the shops' API secrets and the card codes."""
    from datetime import UTC, datetime

    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from webapp import create_app
    from webapp.domain import apikeys, branding, cards, shops
    from webapp.extensions import db
    from webapp.models import Card, Customer, Union

    if url.startswith("postgresql"):
        reset_postgres(url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": env["SECRET_KEY"],
            "CARD_SIGNING_KEY": env["CARD_SIGNING_KEY"],
            "BASE_URL": env["BASE_URL"],
            "OUTBOX_DIR": str(instance / "outbox"),
            "RATELIMIT_ENABLED": False,
        }
    )
    now = datetime.now(UTC)
    rng = random.Random(20260615)  # noqa: S311 - reproducible card numbers, not secrets
    with app.app_context():
        upgrade()
        session = db.session
        branding.update_union(
            session,
            Union(timezone="Europe/Paris"),
            name="Quartier Bench",
            tagline="",
            address="",
            rules_text="",
            primary_color="#1f3a93",
            accent_color="#8a2be2",
            points_per_euro=1,
            cooldown_minutes=10,
            logo=sample_logo(),
        )
        secrets_by_shop, shop_ids = [], []
        for n in range(size.shops):
            shop = shops.save_shop(
                session,
                None,
                slug=f"bench-{n}",
                name=f"Boutique {n}",
                category="Bench",
                address=f"{n} rue du Banc",
                postcode="69004",
            )
            _key, secret = apikeys.create_api_key(session, shop.id, "bench", now)
            secrets_by_shop.append(secret)
            shop_ids.append(shop.id)
        customer_ids = session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [
                {
                    "first_name": f"Client{i}",
                    "email": f"client{i}@example.org",
                    "postcode": "69004",
                    "source": "signup",
                    "created_at": now,
                }
                for i in range(size.cards)
            ],
        ).all()
        numbers: set[str] = set()
        while len(numbers) < size.cards:
            numbers.add(luhn_number(rng))
        numbers_list = sorted(numbers)
        rng.shuffle(numbers_list)
        card_ids = session.scalars(
            insert(Card).returning(Card.id, sort_by_parameter_order=True),
            [
                {"number": number, "version": 1, "customer_id": cid, "status": "active", "issued_at": now}
                for number, cid in zip(numbers_list, customer_ids, strict=True)
            ],
        ).all()
        seed_history(session, size, shop_ids, list(zip(card_ids, customer_ids, strict=True)), now, rng)
        session.commit()
        if url.startswith("postgresql"):
            # Fresh statistics, as autovacuum would have gathered them on a live database.
            session.execute(text("ANALYZE"))
            session.commit()
        db.session.remove()
        db.engine.dispose()
    codes = [cards.card_code(env["CARD_SIGNING_KEY"], number, 1) for number in numbers_list]
    return {"secrets": secrets_by_shop, "codes": codes}


def count_rows(url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            visits = conn.execute(text("SELECT count(*) FROM visit")).scalar_one()
            entries = conn.execute(text("SELECT count(*) FROM points_entry")).scalar_one()
    finally:
        engine.dispose()
    return visits, entries


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    launcher = [str(GUNICORN)] if GUNICORN.exists() else [sys.executable, "-m", "gunicorn"]
    command = [
        *launcher,
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "webapp:create_app()",
    ]
    log_file = open(log_path, "wb")  # noqa: SIM115 - handed to the child, closed with it
    try:
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        log_file.close()


def wait_healthy(process: subprocess.Popen, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def _proc_stats() -> list[tuple[int, int, str, float]]:
    """(pid, ppid, command name, CPU seconds) of every process, from /proc (Linux); [] elsewhere."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = entry.read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        stats.append((int(entry.parent.name), int(fields[1]), name, (int(fields[11]) + int(fields[12])) / ticks))
    return stats


def _ours_or_shared(pid: int, database: str) -> bool:
    """A postgres process serving `database`, or one of the server's shared background processes."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    words = title.split()
    client_backend = any(word.endswith(")") and "(" in word or word == "[local]" for word in words)
    return not client_backend or database in words


def cpu_snapshot(master_pid: int, database: str) -> dict:
    """CPU seconds so far: per process for gunicorn's workers and PostgreSQL, and machine-wide.

    PostgreSQL is the backends of `database` and the server's background processes
    (other databases' backends count as other processes).
    """
    stats = _proc_stats()
    busy = steal = 0.0
    try:  # user nice system idle iowait irq softirq steal
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        ticks = os.sysconf("SC_CLK_TCK")
        busy, steal = (sum(fields[:3]) + fields[5] + fields[6]) / ticks, fields[7] / ticks
    except (OSError, ValueError, IndexError):
        pass
    return {
        "workers": {pid: cpu for pid, ppid, _name, cpu in stats if ppid == master_pid},
        "postgres": {
            pid: cpu for pid, _ppid, name, cpu in stats if name == "postgres" and _ours_or_shared(pid, database)
        },
        "machine": busy,
        "steal": steal,
    }


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds between two snapshots; processes that ended in between are left out."""
    used = {key: after[key] - before[key] for key in ("machine", "steal")}
    for key in ("workers", "postgres"):
        used[key] = sum(cpu - before[key].get(pid, 0.0) for pid, cpu in after[key].items())
    return used


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------- one run


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def make_items(seed: dict, size: Size) -> tuple[list, list]:
    """Warm-up and measured requests: distinct (card, shop) pairs, in a shuffled order."""
    pairs = size.cards * size.shops
    wanted = size.warmup + size.requests
    if wanted > pairs:
        raise SystemExit(f"{wanted} requests need at least as many (card, shop) pairs; have {pairs}")
    rng = random.Random(7)  # noqa: S311
    picks = rng.sample(range(pairs), wanted)
    items = [
        (seed["secrets"][pick // size.cards], seed["codes"][pick % size.cards], rng.randrange(100, 20000))
        for pick in picks
    ]
    return items[: size.warmup], items[size.warmup :]


def run_database(name: str, url: str, size: Size, workers: int, workdir: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "CARD_SIGNING_KEY": secrets.token_urlsafe(32),
            "BASE_URL": "https://quartier.example",
            "RATELIMIT_ENABLED": "0",
            "QUARTIER_ENV": "production",
        }
    )
    env.pop("REDIS_URL", None)
    t0 = time.perf_counter()
    seed = prepare_database(url, env, size, workdir / f"instance-{name}")
    log(
        f"[{name}] schema migrated and seeded ({size.cards} cards, {size.shops} shops, "
        f"{size.cards * size.history} past visits) "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    base_visits, base_entries = count_rows(url)
    warmup, measured = make_items(seed, size)
    port = free_port()
    job_path, out_path = workdir / f"job-{name}.json", workdir / f"out-{name}.json"
    job_path.write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "port": port,
                "clients": size.clients,
                "phase_seconds": size.phase_seconds,
                "warmup": warmup,
                "measured": measured,
                "output": str(out_path),
            }
        )
    )
    server = start_gunicorn(env, port, workers, workdir / f"gunicorn-{name}.log")
    try:
        wait_healthy(server, port)
        log(
            f"[{name}] gunicorn -w {workers} on 127.0.0.1:{port}; {size.clients} client threads, "
            f"{len(warmup)} warm-up + {len(measured)} measured requests; load average {load_average()}"
        )
        database = url.rsplit("/", 1)[-1].split("?")[0]
        cpu_before, client_before = cpu_snapshot(server.pid, database), resource.getrusage(resource.RUSAGE_CHILDREN)
        client = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--client-job", str(job_path)],
            cwd=REPO_ROOT,
            timeout=2 * size.phase_seconds + 60,
            check=False,
        )
        cpu_after, client_after = cpu_snapshot(server.pid, database), resource.getrusage(resource.RUSAGE_CHILDREN)
        if client.returncode != 0:
            raise RuntimeError(f"client process failed with status {client.returncode}")
    except BaseException:
        stop_gunicorn(server)
        tail = (workdir / f"gunicorn-{name}.log").read_text(errors="replace")[-3000:]
        log(f"[{name}] gunicorn log (tail):\n{tail}")
        raise
    stop_gunicorn(server)
    tail = (workdir / f"gunicorn-{name}.log").read_text(errors="replace").strip()
    if tail:
        log(f"[{name}] gunicorn log (tail):\n{tail[-2000:]}")
    output = json.loads(out_path.read_text())
    visits, entries = count_rows(url)
    visits, entries = visits - base_visits, entries - base_entries
    ok_total = sum(1 for phase in output.values() for status in phase["statuses"] if 200 <= status < 300)
    phase = output["measured"]
    statuses = phase["statuses"]
    ok = sum(1 for status in statuses if 200 <= status < 300)
    other = {}
    for status in statuses:
        if not 200 <= status < 300:
            other[status] = other.get(status, 0) + 1
    other_warmup = sum(1 for status in output["warmup"]["statuses"] if not 200 <= status < 300)
    if len(statuses) < len(measured):
        log(f"[{name}] NOTICE: only {len(statuses)} of {len(measured)} requests sent within {size.phase_seconds:.0f} s")
    if other or other_warmup:
        log(f"[{name}] non-2xx answers (status 0 = transport error): {other}, warm-up: {other_warmup}")
    sent_total = sum(len(phase["statuses"]) for phase in output.values())
    cpu = {key: seconds * 1000 / max(sent_total, 1) for key, seconds in cpu_used(cpu_before, cpu_after).items()}
    cpu["client"] = (
        (client_after.ru_utime + client_after.ru_stime - client_before.ru_utime - client_before.ru_stime)
        * 1000
        / max(sent_total, 1)
    )
    ours = cpu["workers"] + cpu["client"] + (cpu["postgres"] if name == "postgresql" else 0.0)
    log(
        f"[{name}] CPU per request: gunicorn workers {cpu['workers']:.2f} ms, client {cpu['client']:.2f} ms"
        + (f", PostgreSQL {cpu['postgres']:.2f} ms" if name == "postgresql" else "")
        + f"; whole machine busy {cpu['machine']:.2f} ms (kernel and other processes: "
        f"{cpu['machine'] - ours:.2f} ms), stolen by the hypervisor {cpu['steal']:.2f} ms; "
        f"load average {load_average()}"
    )
    if cpu["machine"] - ours > 0.25 * ours or cpu["steal"] > 0.1 * ours:
        log(
            f"[{name}] NOTICE: other processes or the hypervisor took much CPU during the run: "
            "figures are not representative"
        )
    if entries != visits:
        log(f"[{name}] NOTICE: {visits} new visits but {entries} new points entries")
    return {
        "per_s": ok / phase["elapsed"] if phase["elapsed"] > 0 else 0.0,
        "p50": percentile(phase["latencies_ms"], 0.50),
        "p99": percentile(phase["latencies_ms"], 0.99),
        "sent": len(statuses),
        "non_2xx": len(statuses) - ok + other_warmup,
        "lost_or_duplicated": abs(visits - ok_total),
        "worker_cpu_ms": cpu["workers"],
        "visits": visits,
        "ok_total": ok_total,
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--clients", type=int, help="concurrent client threads (default 8)")
    parser.add_argument("--requests", type=int, help="measured requests per database")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--client-job", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.client_job:
        return client_main(args.client_job)
    if min(args.clients or 1, args.requests or 1, args.workers) < 1:
        log("--clients, --requests and --workers must be positive")
        return 2
    # A plain `kill` must still stop gunicorn: turn SIGTERM into an exception that unwinds.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    size = QUICK if args.quick else FULL
    if args.clients or args.requests:
        size = Size(
            cards=max(size.cards, math.ceil(((args.requests or size.requests) + size.warmup) / size.shops)),
            shops=size.shops,
            history=size.history,
            warmup=size.warmup,
            requests=args.requests or size.requests,
            clients=args.clients or size.clients,
            phase_seconds=size.phase_seconds,
        )
    wanted = chosen_databases(args)
    if wanted is None:
        return 2
    started = time.perf_counter()
    results = run_each_database(
        wanted, "credit", lambda name, url, workdir: run_database(name, url, size, args.workers, workdir)
    )
    for name, result in results.items():
        figure(f"credit_visits_per_s_{name}", f"{result['per_s']:.0f}", "/s")
        figure(f"credit_p50_ms_{name}", f"{result['p50']:.1f}", "ms")
        figure(f"credit_p99_ms_{name}", f"{result['p99']:.1f}", "ms")
        figure(f"credit_worker_cpu_ms_{name}", f"{result['worker_cpu_ms']:.2f}", "ms")
        figure(f"credit_requests_{name}", result["sent"], "requests")
        figure(f"credit_non_2xx_{name}", result["non_2xx"], "requests")
        log(f"[{name}] {result['visits']} new visits in the database, {result['ok_total']} 2xx answers")
    lost = sum(result["lost_or_duplicated"] for result in results.values())
    figure("lost_or_duplicated", lost)
    log(f"total {time.perf_counter() - started:.1f} s")
    pg = results.get("postgresql")
    if pg and not args.quick and (pg["per_s"] < TARGET_PER_S or pg["p99"] >= TARGET_P99_MS):
        log(f"NOTICE: PostgreSQL below target ({TARGET_PER_S}/s with p99 < {TARGET_P99_MS} ms)")
    if lost or any(result["non_2xx"] for result in results.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
