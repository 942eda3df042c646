"""Measure bulk import throughput: ``python bench/bench_import.py [ROWS] [POSTGRESQL_URL] [--workers N]``.

Prints rows/s for validation alone and for a full import (validate, sign, insert, commit),
with the machine's load average before and after (other work on the machine skews the
numbers). Without a URL it uses a temporary SQLite file; with a PostgreSQL URL it works
in a fresh schema that it drops afterwards. ``--workers`` sets the signing processes
(default: as ``liang badge import`` does, one per core but one; 0 signs in process).
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from signer.batch import MIN_PARALLEL, default_workers
from verifier import context
from verifier.app import create_app
from verifier.audit.service import SYSTEM, AuditLog
from verifier.badges.bulk import BulkImporter, parse_csv
from verifier.organisation.service import OrgService
from verifier.storage.engine import server_on_this_machine
from verifier.storage.migrate import upgrade


def make_csv(rows: int) -> str:
    """Return a CSV with ``rows`` good rows over 4 branches."""
    lines = ["holder,shop_name,shop_url,platform,branch,valid_days,hosts"]
    lines += [f"店主{i},店铺{i},https://s{i}.taobao.com/shop,taobao,B0{i % 4},365,s{i}.taobao.com"
              for i in range(rows)]
    return "\n".join(lines) + "\n"


@contextmanager
def database(tmp: Path, base: str | None) -> Iterator[str]:
    """Yield a database URL: SQLite in ``tmp``, or a throwaway schema in the given PostgreSQL."""
    if base is None:
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base)
    try:
        yield url.set(query={**url.query, "options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the signing workers, once they have exited
    return usage.ru_utime + usage.ru_stime


class _ServerCpu:
    """CPU time of this session's PostgreSQL backend process, when it runs on this machine (else None)."""

    def __init__(self, session: Any) -> None:
        self._stat: Path | None = None
        if session.get_bind().dialect.name == "postgresql":
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            self._stat = Path(f"/proc/{pid}/stat")
        self._start = self._read()

    def _read(self) -> float | None:
        if self._stat is None:
            return None
        try:
            fields = self._stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def used(self) -> float | None:
        now = self._read()
        return None if now is None or self._start is None else now - self._start


def main() -> None:
    """Run the benchmark and print the rates."""
    parser = argparse.ArgumentParser(description="bulk import throughput")
    parser.add_argument("rows", nargs="?", type=int, default=20_000)
    parser.add_argument("postgresql_url", nargs="?", default=None)
    parser.add_argument("--workers", type=int, default=None,
                        help="signing worker processes (0: sign in process; default: as `liang badge import`)")
    args = parser.parse_args()
    if args.workers is None:  # the CLI's own choice: a database server here keeps a core
        on_this_machine = bool(args.postgresql_url) and server_on_this_machine(args.postgresql_url)
        args.workers = default_workers(reserved=1 if on_this_machine else 0)
    tmp = Path(tempfile.mkdtemp(prefix="liang-bench-"))
    before = _load()
    with database(tmp, args.postgresql_url) as url:
        run(args.rows, tmp, url, workers=args.workers)
    print(f"machine: before {before}; after {_load()}")


def run(rows: int, tmp: Path, url: str, *, workers: int) -> None:
    """Import ``rows`` rows twice (dry run, then for real) and print the rates."""
    app = create_app({"INSTANCE_DIR": str(tmp), "DATABASE_URL": url, "RATELIMIT_ENABLED": False})
    text = make_csv(rows)
    with app.app_context():
        upgrade(context.database().engine)
        context.begin_write()
        context.key_service().ensure_key()
        org = OrgService(context.session(), clock=context.clock(), audit=AuditLog(context.session(),
                                                                                  clock=context.clock()))
        for i in range(4):
            org.add_branch(f"B0{i}", f"第{i}支部", actor=SYSTEM)
        context.session().commit()

        def importer() -> BulkImporter:
            sess = context.session()
            return BulkImporter(sess, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                                audit=AuditLog(sess, clock=context.clock()), sign_workers=workers)

        start = time.perf_counter()
        parsed, errors = parse_csv(text)
        report = importer().run(parsed, actor=SYSTEM, dry_run=True, parse_errors=errors)
        dry = time.perf_counter() - start
        assert report.ok, report.errors[:3]

        context.begin_write()
        server = _ServerCpu(context.session())
        start, cpu, workers_cpu = time.perf_counter(), time.process_time(), _children_cpu()
        parsed, errors = parse_csv(text)
        report = importer().run(parsed, actor=SYSTEM, parse_errors=errors)
        context.session().commit()
        full, cpu = time.perf_counter() - start, time.process_time() - cpu
        workers_cpu = _children_cpu() - workers_cpu
        server_cpu = server.used()
        assert len(report.issued) == rows
    app.extensions["liang.db"].dispose()
    database_name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    signing = (f"{workers} worker process(es)" if workers and rows >= MIN_PARALLEL else "in process")
    print(f"{database_name}: {rows:,} rows, signing {signing}")
    print(f"{database_name}: dry run (parse + validate): {rows / dry:,.0f} rows/s")
    print(f"{database_name}: full import (validate, sign, insert, commit): {rows / full:,.0f} rows/s  "
          f"({full:.2f} s)")
    # On a shared machine the wall time says more about the neighbours than about the import:
    # the CPU time of this process (signing workers and the database server not included) does not.
    print(f"{database_name}: full import CPU time of the importing process: {cpu:.2f} s "
          f"({rows / cpu:,.0f} rows per CPU second)")
    total = cpu + workers_cpu + (server_cpu or 0.0)
    server_part = "" if server_cpu is None else f" + database server {server_cpu:.2f} s"
    print(f"{database_name}: CPU time of every process: importer {cpu:.2f} s + signing workers {workers_cpu:.2f} s"
          f"{server_part} = {total:.2f} s ({rows / total:,.0f} rows per CPU second)")


if __name__ == "__main__":
    main()
