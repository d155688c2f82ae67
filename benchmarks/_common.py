"""What the benchmark scripts share: their output, the choice of databases, fresh schemas.

Each script prints only its figures on stdout, one per line, exactly `name: value unit`;
everything else goes to stderr. Without arguments a script measures SQLite and PostgreSQL
(`BENCH_POSTGRES_URL`, whose `public` schema is DROPPED and rebuilt); `--quick` is the small
smoke run CI does, which skips PostgreSQL with a notice when no server answers.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASES = ("sqlite", "postgresql")


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def figure(name: str, value, unit: str = "") -> None:
    print(f"{name}: {value} {unit}".rstrip(), flush=True)


def run_each_database(databases: list[str], prefix: str, run: Callable[[str, str, Path], dict]) -> dict[str, dict]:
    """`run(name, url, workdir)` for each database, in one temporary folder; the results by database.

    A wrong result (ValueError) ends the script with status 1, a failure to measure
    (RuntimeError, a subprocess that timed out) with status 2, each after saying why on stderr.
    """
    results = {}
    with tempfile.TemporaryDirectory(prefix=f"quartier-bench-{prefix}-") as tmp:
        workdir = Path(tmp)
        for name in databases:
            try:
                results[name] = run(name, database_url(name, workdir), workdir)
            except ValueError as error:
                log(f"[{name}] WRONG RESULT: {error}")
                raise SystemExit(1) from error
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                log(f"[{name}] ERROR: {error}")
                raise SystemExit(2) from error
    return results


def warn_above_targets(name: str, over: list[str], quick: bool) -> None:
    """Say on stderr which targets a full run missed (a smoke run's figures mean nothing)."""
    if over and not quick:
        log(f"[{name}] NOTICE: above target: {', '.join(over)}")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="small smoke run (CI)")
    parser.add_argument(
        "--databases", default=",".join(DATABASES), help="comma-separated: sqlite, postgresql (default: both)"
    )


def postgres_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_answers(url: str) -> bool:
    from sqlalchemy import create_engine

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 - any failure means "no server here"
        return False
    finally:
        engine.dispose()


def chosen_databases(args: argparse.Namespace) -> list[str] | None:
    """The databases to measure, or None (after saying why) when the run cannot go on."""
    wanted = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(wanted) - set(DATABASES)
    if unknown or not wanted:
        log(f"unknown database(s): {', '.join(sorted(unknown)) or '(none)'}")
        return None
    if "postgresql" in wanted and not postgres_answers(postgres_url()):
        where = postgres_url().split("@")[-1]
        if not args.quick:
            log(f"ERROR: no PostgreSQL at {where} (set BENCH_POSTGRES_URL, or pass --databases sqlite)")
            return None
        log(f"NOTICE: no PostgreSQL at {where}: SQLite only")
        wanted.remove("postgresql")
    return wanted or None


def database_url(name: str, workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.sqlite'}" if name == "sqlite" else postgres_url()


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def analyze(url: str) -> None:
    """PostgreSQL: fresh planner statistics, as autovacuum gathers them after a large load."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def luhn_number(rng: random.Random) -> str:
    """A random 12-digit card number with its Luhn check digit."""
    from webapp.domain.cards import luhn_check_digit

    body = str(rng.randrange(10**10, 10**11))
    return body + luhn_check_digit(body)


def best_ms(client, url: str, runs: int, expect: str | None = None) -> float:
    """One warm-up GET through a Flask test client, then the best of `runs` (ms); every answer must be 200."""
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: status {response.status_code}")
        if expect is not None and expect not in body.decode("utf-8", "replace"):
            raise ValueError(f"GET {url}: {expect!r} not in the page")
        if attempt:
            times.append(elapsed)
    return min(times)


def insert_ids(session, model, rows: list[dict], chunk: int = 5000) -> list[int]:
    """Bulk INSERT ... RETURNING id, in the rows' order, by chunks (one statement of many
    thousand rows makes SQLAlchemy splice its batches' results over and over)."""
    from sqlalchemy import insert

    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for start in range(0, len(rows), chunk):
        ids += session.scalars(statement, rows[start : start + chunk]).all()
    return ids
