"""Crash safety: SIGKILL at random moments never loses a committed badge or leaves half a one.

A subprocess issues badges in a loop (printing each id only after its
transaction committed) and is killed with SIGKILL at a random moment; every
round then checks the SQLite file: integrity, every printed id present, no
badge without its credential or its two status slots, status-list counters
and the audit chain consistent (``liang audit verify``). The same for
``liang badge import`` (all rows or none), once that command exists, and for a
large import that signs in worker processes (which must not outlive it).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import TEST_KEK
from verifier import context
from verifier.app import create_app
from verifier.storage.engine import make_engine

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROUNDS = 20
#: The rounds run as CHUNKS independent tests (each on its own instance) so that xdist can spread them.
CHUNKS = 4
CHUNK_ROUNDS = ROUNDS // CHUNKS

ISSUE_LOOP = textwrap.dedent("""
    import sys
    from verifier import context
    from verifier.cli.common import cli_actor, make_app
    from verifier.badges.service import IssueRequest

    tag = sys.argv[1]
    app = make_app()
    with app.app_context():
        n = 0
        while True:
            context.begin_write()
            row = context.badge_service().issue(
                IssueRequest("店主" + tag, "店铺" + str(n), f"https://s{tag}-{n}.example.com", "taobao", "B01"),
                actor=cli_actor())
            badge_id = row.id
            context.session().commit()
            print(badge_id, flush=True)  # only after the commit returned
            n += 1
""")


def _env(instance: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LIANG_INSTANCE_DIR": str(instance),
        "LIANG_DATABASE_URL": f"sqlite:///{instance / 'liang.sqlite3'}",
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": "http://127.0.0.1:8000",
        "LIANG_LOG_FORMAT": "text",
    }


def _liang(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "verifier", *args], env=env, capture_output=True, text=True,
                            timeout=120)
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


@pytest.fixture
def instance(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Return an initialised SQLite instance with branch B01."""
    path = tmp_path / "instance"
    env = _env(path)
    _liang(env, "init")
    _liang(env, "branch", "add", "B01", "第一支部")
    return path, env


def _kill_at_random(args: list[str], env: dict[str, str], rng: random.Random, *, low: float, high: float,
                    after_first_line: bool = False) -> str:
    """Start ``args``, SIGKILL it after a random delay, return what it printed.

    With ``after_first_line`` the delay starts once the process printed its first
    line (it is then busy issuing), so a slow, loaded machine still kills mid-work.
    """
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = ""
    if after_first_line:
        assert process.stdout is not None
        first = process.stdout.readline()
    time.sleep(rng.uniform(low, high))
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=30)
    assert process.returncode in (-signal.SIGKILL, 0), err
    return first + out


def _check_database(db: Path, env: dict[str, str]) -> dict[str, int]:
    """Assert the database is whole; return counts."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        partial = conn.execute("""
            SELECT b.id FROM badges b
            WHERE b.state IN ('active', 'suspended', 'revoked')
              AND (b.credential IS NULL OR b.kid IS NULL
                   OR (SELECT count(*) FROM status_slots s WHERE s.badge_id = b.id) != 2
                   OR (SELECT count(DISTINCT s.purpose) FROM status_slots s WHERE s.badge_id = b.id) != 2)
        """).fetchall()
        assert partial == [], f"partial badges: {partial}"
        orphans = conn.execute(
            "SELECT count(*) FROM status_slots s LEFT JOIN badges b ON b.id = s.badge_id WHERE b.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        counters = conn.execute("""
            SELECT l.id, l.used, (SELECT count(*) FROM status_slots s WHERE s.list_id = l.id)
            FROM status_lists l
        """).fetchall()
        assert all(used == slots for _, used, slots in counters), counters
        badges = conn.execute("SELECT count(*) FROM badges").fetchone()[0]
        issued = conn.execute("SELECT count(*) FROM audit_events WHERE action = 'issue'").fetchone()[0]
        assert issued == badges, "every badge has its audit event and no event lacks its badge"
        # The transparency log: gapless, and exactly one issue entry per committed badge, none without its badge.
        indexes = [i for (i,) in conn.execute("SELECT idx FROM log_entries ORDER BY idx")]
        assert indexes == list(range(len(indexes))), "log indexes are gapless"
        head = conn.execute("SELECT size FROM log_head WHERE id = 1").fetchone()
        assert (head[0] if head else 0) == len(indexes), "the log head counts exactly the committed entries"
        logged = conn.execute("SELECT count(*), count(DISTINCT badge_id) FROM log_entries "
                              "WHERE json_extract(CAST(data AS TEXT), '$.event') = 'issue'").fetchone()
        assert logged == (badges, badges), "one issue entry per badge"
        strays = conn.execute("SELECT count(*) FROM log_entries e LEFT JOIN badges b ON b.id = e.badge_id "
                              "WHERE e.badge_id IS NOT NULL AND b.id IS NULL").fetchone()[0]
        assert strays == 0, "no log entry lacks its badge"
        pointing = conn.execute("SELECT count(*) FROM badges b JOIN log_entries e ON e.idx = b.log_index "
                                "AND e.badge_id = b.id").fetchone()[0]
        assert pointing == badges, "every badge points at its own latest entry"
    finally:
        conn.close()
    audit = _liang(env, "audit", "verify", check=False)
    assert audit.returncode == 0, audit.stderr
    assert "audit log intact" in audit.stdout
    return {"badges": badges}


def _ids_in(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM badges")}
    finally:
        conn.close()


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_killed_issuance_loop_loses_nothing_and_leaves_nothing_half_done(instance, chunk):
    path, env = instance
    db = path / "liang.sqlite3"
    rng = random.Random()  # noqa: S311 - random kill moments, not security
    committed: set[str] = set()
    killed_mid_run = 0
    for round_no in range(chunk * CHUNK_ROUNDS, (chunk + 1) * CHUNK_ROUNDS):
        out = _kill_at_random([sys.executable, "-c", ISSUE_LOOP, f"r{round_no}"], env, rng, low=0.0, high=1.5,
                              after_first_line=True)
        printed = {line.strip() for line in out.splitlines() if line.strip()}
        killed_mid_run += bool(printed)
        committed |= printed
        present = _ids_in(db)
        assert committed <= present, f"round {round_no}: committed badges lost: {committed - present}"
        _check_database(db, env)
    print(f"\ncrash safety: {CHUNK_ROUNDS} SIGKILL rounds, {len(committed)} committed badges all present, "
          f"{len(_ids_in(db))} in the database")
    assert killed_mid_run == CHUNK_ROUNDS


def test_killed_cli_issue_loses_nothing(instance):
    path, env = instance
    db = path / "liang.sqlite3"
    rng = random.Random()  # noqa: S311
    for round_no in range(5):
        args = [sys.executable, "-m", "verifier", "badge", "issue", "--holder", "某某", "--shop-name", "店",
                "--shop-url", f"https://cli{round_no}.example.com", "--platform", "jd", "--branch", "B01"]
        out = _kill_at_random(args, env, rng, low=0.2, high=1.5)
        shown = [line.split()[0] for line in out.splitlines() if line.strip() and "-" in line.split()[0]]
        present = _ids_in(db)
        assert {s.replace("-", "") for s in shown} <= present
        _check_database(db, env)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_killed_import_is_all_or_nothing(instance, tmp_path, chunk):
    path, env = instance
    db = path / "liang.sqlite3"
    rng = random.Random()  # noqa: S311
    rows = 150
    outcomes = {"all": 0, "none": 0}
    for round_no in range(chunk * CHUNK_ROUNDS, (chunk + 1) * CHUNK_ROUNDS):
        csv_path = tmp_path / f"import{round_no}.csv"
        lines = ["holder,shop_name,shop_url,platform,branch,valid_days"]
        lines += [f"成员{round_no}-{i},店{i},https://imp{round_no}-{i}.example.com,taobao,B01,365" for i in range(rows)]
        csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _kill_at_random([sys.executable, "-m", "verifier", "badge", "import", str(csv_path)], env, rng,
                        low=0.5, high=4.0)
        conn = sqlite3.connect(db)
        try:
            landed = conn.execute("SELECT count(*) FROM shops WHERE url LIKE ?", (f"https://imp{round_no}-%",)
                                  ).fetchone()[0]
        finally:
            conn.close()
        assert landed in (0, rows), f"round {round_no}: partial import of {landed}/{rows} rows"
        outcomes["all" if landed else "none"] += 1
        _check_database(db, env)
    print(f"\nimport kill rounds: {CHUNK_ROUNDS} ({outcomes})")


def _children(pid: int) -> set[int]:
    """Return the ids of ``pid``'s child processes (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find the workers")
@pytest.mark.parametrize("round_no", range(3))  # one round per test: xdist spreads them
def test_killed_parallel_import_is_all_or_nothing_and_leaves_no_signing_worker(instance, tmp_path, round_no):
    path, env = instance
    db = path / "liang.sqlite3"
    rng = random.Random()  # noqa: S311
    rows = 3000  # above signer.batch.MIN_PARALLEL: credentials are signed in worker processes
    csv_path = tmp_path / f"big{round_no}.csv"
    lines = ["holder,shop_name,shop_url,platform,branch,valid_days"]
    lines += [f"成员{i},店{i},https://big{round_no}-{i}.example.com,taobao,B01,365" for i in range(rows)]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "verifier", "badge", "import", str(csv_path)],
                               env={**env, "LIANG_IMPORT_SIGN_WORKERS": "1"},  # whatever the machine's load
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while not workers and process.poll() is None and time.monotonic() < deadline:
        workers = _children(process.pid)
        time.sleep(0.05)
    assert workers, "the import finished (or hung) before it started a signing worker"
    time.sleep(rng.uniform(0.0, 0.6))  # the workers have started: somewhere in signing and writing
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    # A worker notices its parent is gone and exits: none stays behind holding the key.
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "signing worker outlived the killed import"
    conn = sqlite3.connect(db)
    try:
        landed = conn.execute("SELECT count(*) FROM shops WHERE url LIKE ?", (f"https://big{round_no}-%",)
                              ).fetchone()[0]
    finally:
        conn.close()
    assert landed in (0, rows), f"round {round_no}: partial import of {landed}/{rows} rows"
    _check_database(db, env)


# -- SQLite settings ----------------------------------------------------------------------------
def test_every_sqlite_connection_is_wal_full_sync_with_foreign_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    engine = make_engine(url)
    connections = [engine.connect() for _ in range(4)]
    try:
        for conn in connections:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        for conn in connections:
            conn.close()
        engine.dispose()
    app = create_app({"INSTANCE_DIR": str(tmp_path / "i"), "DATABASE_URL": url, "KEY_ENCRYPTION_KEY": TEST_KEK})
    with app.app_context():
        session = context.begin_write()  # the session every request and CLI command uses
        assert session.execute(text("PRAGMA synchronous")).scalar() == 2
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        session.rollback()
    app.extensions["liang.db"].dispose()
