"""Measure single-issue latency: ``python bench/bench_issue.py [COUNT] [POSTGRESQL_URL]``.

Issues COUNT badges one at a time, each in its own unit of work (what the console, the admin
API and ``liang badge issue`` do), and prints the median, p95 and mean wall time and the CPU
time per issue, with the machine's load average. Without a URL it uses a temporary SQLite
file; with a PostgreSQL URL a fresh schema that it drops afterwards. Written for issue 22
(the transparency log's cost on the decision path); it runs against older trees too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_import import database  # type: ignore[import-not-found]

from verifier import context
from verifier.app import create_app
from verifier.audit.service import SYSTEM, AuditLog
from verifier.badges.service import IssueRequest
from verifier.organisation.service import OrgService
from verifier.storage.migrate import upgrade


def main() -> None:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser(description="single-issue latency")
    parser.add_argument("count", nargs="?", type=int, default=200)
    parser.add_argument("postgresql_url", nargs="?", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp), args.postgresql_url) as url:
        app = create_app({"INSTANCE_DIR": tmp, "DATABASE_URL": url, "PUBLIC_URL": "http://127.0.0.1:8000",
                          "RATELIMIT_ENABLED": False})
        kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        upgrade(app.extensions["liang.db"].engine)
        with app.app_context():
            context.key_service().ensure_key()
            session = context.begin_write()
            OrgService(session, clock=context.clock(), audit=AuditLog(session, clock=context.clock())) \
                .add_branch("B01", "第一支部", actor=SYSTEM)
            session.commit()
        load = os.getloadavg()
        walls, cpus = [], []
        for n in range(args.count + 10):
            with app.app_context():
                started, cpu = time.perf_counter(), time.process_time()
                with context.unit_of_work().write():
                    context.badge_service().issue(
                        IssueRequest(f"店主{n}", f"店铺{n}", f"https://lat{n}.taobao.com/shop", "taobao", "B01", 365,
                                     None), actor=SYSTEM)
                if n >= 10:  # the first ten warm the caches and the pool
                    walls.append((time.perf_counter() - started) * 1000)
                    cpus.append((time.process_time() - cpu) * 1000)
        walls.sort()
        print(f"{kind}: {args.count} single issues: median {statistics.median(walls):.2f} ms, "
              f"p95 {walls[int(len(walls) * 0.95) - 1]:.2f} ms, mean {statistics.mean(walls):.2f} ms; "
              f"CPU {statistics.mean(cpus):.2f} ms per issue")
        print(f"machine: before load average {' '.join(f'{x:.2f}' for x in load)}; after "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        app.extensions["liang.db"].dispose()


if __name__ == "__main__":
    main()
