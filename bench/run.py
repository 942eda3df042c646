#!/usr/bin/env python3
"""Throughput benchmark on loopback: the public hot paths next to a bare Flask app, at several registry sizes.

    .venv/bin/python bench/run.py [--sizes 1000,100000,1000000] [--duration 5] [--rounds 3] [--output bench/RESULTS.md]

For each registry size it builds a fresh database (SQLite; also PostgreSQL with ``--database-url``
or ``LIANG_BENCH_DATABASE_URL``, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/liang_bench``;
``--no-sqlite`` for PostgreSQL only),
issues a few real signed badges through the service, fills the rest of the registry with
bulk-inserted rows (SQLAlchemy Core; the filler rows reuse one signed credential string
and get no status-list slots: the verify paths read neither), starts ``liang serve`` and a
bare one-route Flask app under the SAME gunicorn settings, and drives both with wrk
(``apt-get install -y wrk``) picking a random badge per request. Each endpoint is measured
in rounds of (bare app, endpoint) back to back and the ratio is the median round's, so that
load drifting on a shared machine moves both sides of a ratio together. It prints a
Markdown table with requests/s, p50/p99 and the ratios, and writes bench/RESULTS.md.
Rate-limit counters go to Redis when ``LIANG_BENCH_REDIS_URL`` is set (as in a many-instance
deployment), else to the in-process memory storage.
With two cores or more, both servers run on one core and wrk on another (``--no-pin`` leaves
placement to the kernel; see ``PIN`` for why). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEK = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s"  # base64url of 32 bytes: a throwaway benchmark key
REAL_BADGES = 20
SAMPLE = 2000
MAX_SIZE = 2_000_000
TARGETS = {"api": 0.85, "page": 0.65, "png_cold": 0.50, "png": 0.60}


# -- machine ---------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    """Describe this machine: cores, CPU model, RAM, OS, Python."""
    model = "unknown"
    ram = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"nproc": str(os.cpu_count()), "cpu": model, "ram": ram, "os": platform.platform(),
            "python": platform.python_version(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"}


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- database --------------------------------------------------------------------------------------
class Registry:
    """A fresh database for one registry size."""

    def __init__(self, workdir: Path, base_url: str | None) -> None:
        self.workdir = workdir
        self.schema: str | None = None
        self.base_url = base_url
        if base_url:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            self.schema = f"bench_{secrets.token_hex(4)}"
            engine = create_engine(base_url)
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            engine.dispose()
            url = make_url(base_url)
            self.url = url.set(query={**url.query, "options": f"-csearch_path={self.schema}"}).render_as_string(
                hide_password=False)
        else:
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"

    @property
    def kind(self) -> str:
        """Return ``PostgreSQL`` or ``SQLite``."""
        return "PostgreSQL" if self.schema else "SQLite"

    def drop(self) -> None:
        """Remove the schema (PostgreSQL)."""
        if self.schema and self.base_url:
            from sqlalchemy import create_engine, text

            engine = create_engine(self.base_url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            engine.dispose()


def env_for(registry: Registry, instance: Path, public_url: str) -> dict[str, str]:
    """Return the LIANG_* environment of the benchmarked service."""
    return {
        "LIANG_INSTANCE_DIR": str(instance),
        "LIANG_DATABASE_URL": registry.url,
        "LIANG_KEY_ENCRYPTION_KEY": KEK,
        "LIANG_PUBLIC_URL": public_url,
        "LIANG_SECRET_KEY": "b" * 48,
        # The limiter stays on (its cost is part of the path) with a limit the benchmark cannot reach.
        "LIANG_VERIFY_RATE_LIMIT": "100000000 per minute",
        "LIANG_LOG_FORMAT": "json",
        **({"LIANG_REDIS_URL": os.environ["LIANG_BENCH_REDIS_URL"],
            "LIANG_RATELIMIT_KEY_PREFIX": f"liang-bench-{secrets.token_hex(4)}"}
           if os.environ.get("LIANG_BENCH_REDIS_URL") else {}),
    }


def seed(env: dict[str, str], size: int) -> tuple[list[str], list[str], str]:
    """Fill the registry; return (real badge ids, sampled ids for requests, a status-list path)."""
    from sqlalchemy import func, insert, select

    from signer.ids import format_badge_id, new_badge_id
    from verifier import context
    from verifier.app import create_app
    from verifier.audit.service import Actor, AuditLog
    from verifier.badges.service import IssueRequest
    from verifier.organisation.service import OrgService
    from verifier.storage.models import Badge, Member, Shop, StatusList
    from verifier.storage.publicdoc import document_text

    actor = Actor(name="bench", role="committee", client="bench")
    app = create_app({"INSTANCE_DIR": env["LIANG_INSTANCE_DIR"], "DATABASE_URL": env["LIANG_DATABASE_URL"],
                      "KEY_ENCRYPTION_KEY": KEK, "PUBLIC_URL": env["LIANG_PUBLIC_URL"], "RATELIMIT_ENABLED": False,
                      "TESTING": True})
    real: list[str] = []
    with app.app_context():
        context.begin_write()
        context.key_service().ensure_key()
        OrgService(context.session(), clock=context.clock(),
                   audit=AuditLog(context.session(), clock=context.clock())).add_branch("B01", "第一支部", actor=actor)
        service = context.badge_service()
        for n in range(min(REAL_BADGES, size)):
            badge = service.issue(IssueRequest(f"党员{n}", f"义乌小商品{n}号店", f"https://shop{n}.taobao.com",
                                               "taobao", "B01", 365, None), actor=actor)
            real.append(badge.id)
        context.session().commit()
        session = context.session()
        template = session.get(Badge, real[0])
        assert template is not None
        credential, kid, branch_id = template.credential, template.kid, template.branch_id
        list_id = session.execute(select(StatusList.id).limit(1)).scalar_one()
        member_base = session.execute(select(func.max(Member.id))).scalar_one() or 0
        shop_base = session.execute(select(func.max(Shop.id))).scalar_one() or 0
        session.close()
        engine = context.database().engine

    fillers = size - len(real)
    now = datetime.now(UTC)
    until = now + timedelta(days=365)
    seen = set(real)
    sample: list[str] = []
    started = time.perf_counter()
    chunk = 20_000
    for offset in range(0, fillers, chunk):
        count = min(chunk, fillers - offset)
        members, shops, badges = [], [], []
        for i in range(count):
            n = offset + i
            badge_id = new_badge_id()
            while badge_id in seen:
                badge_id = new_badge_id()
            seen.add(badge_id)
            members.append({"id": member_base + n + 1, "name": f"党员{n}", "branch_id": branch_id,
                            "contact": None, "created_at": now})
            shops.append({"id": shop_base + n + 1, "member_id": member_base + n + 1, "platform": "taobao",
                          "name": f"商铺{n}", "url": f"https://s{n}.taobao.com",
                          "url_key": f"https://s{n}.taobao.com", "hosts": [f"s{n}.taobao.com"],
                          "created_at": now})
            # Each filler carries its precomputed public document, as every write path leaves one.
            doc = document_text(badge_id=badge_id, holder=f"党员{n}", shop_name=f"商铺{n}", platform="taobao",
                                shop_url=f"https://s{n}.taobao.com", hosts=[f"s{n}.taobao.com"], branch_code="B01",
                                branch_name="第一支部", valid_from=now, valid_until=until, credential=credential)
            badges.append({"id": badge_id, "shop_id": shop_base + n + 1, "branch_id": branch_id, "state": "active",
                           "valid_from": now, "valid_until": until, "issued_at": now, "credential": credential,
                           "credential_id": f"urn:uuid:{n}", "kid": kid, "updated_at": now, "public_doc": doc})
        with engine.begin() as conn:
            conn.execute(insert(Member), members)
            conn.execute(insert(Shop), shops)
            conn.execute(insert(Badge), badges)
        # A uniform random sample over the whole registry (each chunk gives its share).
        share = min(count, -(-(SAMPLE - len(real)) * count // fillers))
        sample.extend(random.sample([b["id"] for b in badges], share))
        print(f"\r  seeded {offset + count:,}/{fillers:,} filler badges", end="", file=sys.stderr, flush=True)
    if fillers:
        elapsed = time.perf_counter() - started
        print(f"\r  seeded {fillers:,} filler badges in {elapsed:.1f} s ({fillers / elapsed:,.0f} badges/s)",
              file=sys.stderr)
    if engine.dialect.name == "sqlite":
        # Bulk seeding leaves the whole registry in the WAL; a live database would have had it
        # checkpointed long ago. Without this the server's first write (the verification
        # counter's flush) copies it back mid-measurement and stalls every reader for seconds.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        # Likewise on PostgreSQL: a live registry has long been vacuumed and analysed, and a
        # checkpoint has written it out; freshly bulk-loaded, autovacuum and the first checkpoint
        # would run during the measurement (one round's p99 at 1,000,000 badges went to 57 ms).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
            conn.exec_driver_sql("CHECKPOINT")
    app.extensions["liang.db"].dispose()
    ids = [format_badge_id(b) for b in real + sample[:SAMPLE - len(real)]]
    random.shuffle(ids)
    return [format_badge_id(b) for b in real], ids, f"/status/{list_id}"


# -- servers and load ------------------------------------------------------------------------------
#: The server process behind each base URL, for CPU accounting.
SERVERS: dict[str, subprocess.Popen[bytes]] = {}

#: CPU placement: the servers on one core, wrk on another (``--no-pin``: wherever the kernel puts them).
#: Unpinned, a one-worker gthread server on two cores switches between two steady states of about
#: 270 and 600-700 µs of CPU per bare request (its threads on one core, or handing the GIL across
#: cores), a few seconds each: a ratio of two back-to-back runs then measured the placement as much
#: as the code.
PIN: dict[str, set[int]] = {}


def pin(role: str) -> Any:
    """Return a ``preexec_fn`` putting a child (and every thread it starts) on ``role``'s cores, or None."""
    cores = PIN.get(role)
    if not cores:
        return None
    return lambda: os.sched_setaffinity(0, cores)


def cpu_seconds(url: str) -> float:
    """Return the CPU seconds used so far by the server at ``url`` (its master and workers); 0 if unknown."""
    process = SERVERS.get(url)
    if process is None:
        return 0.0
    pids = [process.pid]
    try:
        for line in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
            pids.append(int(line))
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def start(cmd: list[str], env: dict[str, str], url: str, health: str) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server process; return it and the seconds until ``health`` answered 200."""
    started = time.monotonic()
    process = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=pin("server"),  # noqa: PLW1509 - the benchmark starts no threads
                               cwd=ROOT)
    while time.monotonic() - started < 60:
        if process.poll() is not None:
            raise RuntimeError(f"{cmd} exited with {process.returncode}")
        try:
            if requests.get(url + health, timeout=1).status_code == 200:
                SERVERS[url] = process
                return process, time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"{cmd} did not answer within 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server process."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(base: str, paths: list[str], *, duration: int, connections: int, threads: int,
        workdir: Path) -> dict[str, float]:
    """Drive ``base`` with wrk over random ``paths``; return rps, p50/p99 in ms and the non-2xx count."""
    script = workdir / f"paths-{secrets.token_hex(4)}.lua"
    quoted = ",\n".join('"' + p.replace('"', "") + '"' for p in paths)
    cpu_before = cpu_seconds(base)
    script.write_text(f"local paths = {{\n{quoted}\n}}\n"
                      "math.randomseed(os.time())\n"
                      "request = function()\n  return wrk.format(\"GET\", paths[math.random(#paths)])\nend\n")
    result = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
                             "-s", str(script), base], capture_output=True, text=True, timeout=duration + 60,
                            check=True, preexec_fn=pin("wrk"))  # noqa: PLW1509 - no threads here
    cpu = cpu_seconds(base) - cpu_before
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = re.search(r"(\d+) requests in", out)
    lat = {m.group(1): float(m.group(2)) * _UNITS[m.group(3)] for m in _LATENCY.finditer(out)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p50": lat.get("50", float("nan")), "p99": lat.get("99", float("nan")),
            "non2xx": float(bad.group(1)) if bad else 0.0, "socket_errors": 1.0 if errors else 0.0,
            # The server's own CPU per request (master + workers): much less moved by other load than req/s.
            "cpu_us": 1e6 * cpu / int(done.group(1)) if done and cpu > 0 else float("nan")}


def measure(base: str, paths: list[str], args: argparse.Namespace, bare_url: str, workdir: Path,
            bare_runs: list[dict[str, float]], name: str) -> dict[str, Any]:
    """Run ``args.rounds`` (bare, endpoint) pairs; return the median round with every round's ratio."""
    # Each round runs the bare app and then the endpoint back to back, and the ratio is
    # taken within the round: on a machine shared with other work the load drifts
    # between endpoints, much less within a pair. The median round is reported.
    rounds = []
    for _ in range(args.rounds):
        bare_run = wrk(bare_url, ["/"], duration=args.duration, connections=args.connections,
                       threads=args.threads, workdir=workdir)
        run = wrk(base, paths, duration=args.duration, connections=args.connections,
                  threads=args.threads, workdir=workdir)
        bare_runs.append(bare_run)
        rounds.append({**run, "ratio": run["rps"] / bare_run["rps"], "ratios": [],
                       "cpu_ratio": bare_run["cpu_us"] / run["cpu_us"], "bare_cpu_us": bare_run["cpu_us"]})
    in_order = [r["ratio"] for r in rounds]
    rounds.sort(key=lambda r: r["ratio"])
    median = rounds[len(rounds) // 2]
    median["ratios"] = in_order  # in the order they ran: the first round of a cold case is the coldest
    print(f"  {name:8s} {median['rps']:9.0f} req/s  p50 {median['p50']:.2f} ms"
          f"  p99 {median['p99']:.2f} ms  × bare {median['ratio']:.2f}  CPU {median['cpu_us']:.0f} µs/req"
          f" (bare {median['bare_cpu_us']:.0f}; CPU ratio {median['cpu_ratio']:.2f})"
          f" (rounds in order {', '.join(f'{r:.2f}' for r in in_order)})", file=sys.stderr)
    return median


def measure_size(size: int, args: argparse.Namespace, bare_url: str, base_db: str | None) -> dict[str, Any]:
    """Benchmark one registry size; return its rows."""
    workdir = Path(tempfile.mkdtemp(prefix=f"liang-bench-{size}-"))
    registry = Registry(workdir, base_db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = env_for(registry, workdir / "instance", url)
    try:
        subprocess.run([sys.executable, "-m", "verifier", "init"], env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT)
        print(f"registry {size:,} ({registry.kind}):", file=sys.stderr)
        real, ids, status_path = seed(env, size)
        server, startup = start([sys.executable, "-m", "verifier", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--workers", str(args.workers)], env, url, "/healthz")
        floor_server = None
        try:
            only = set(args.only.split(","))
            floor_url = ""
            if "floor" in only:  # our app's own floor: every hook the API pays, a view that does nothing
                floor_port = free_port()
                floor_url = f"http://127.0.0.1:{floor_port}"
                floor_server, _ = start([sys.executable, str(ROOT / "bench" / "bare_app.py"), str(floor_port),
                                         str(args.workers), "floor"], env, floor_url, "/healthz")
            png = f"/v/{real[0]}/badge.png?size=m"
            png_ok = requests.get(url + png, timeout=10).status_code == 200
            targets: dict[str, tuple[str, list[str]]] = {
                "bare": (bare_url, ["/"]),
                "api": (url, [f"/api/v1/badges/{i}" for i in ids]),
                "page": (url, [f"/v/{i}" for i in ids]),
                "png": (url, [f"/v/{i}/badge.png?size=m" for i in real]) if png_ok else ("", []),
                "status": (url, [status_path]),
                "floor": (floor_url, ["/__floor"]),
            }
            for name in list(targets):
                if name != "bare" and name not in only:
                    targets[name] = ("", [])
            png_ok = png_ok and bool({"png", "png_cold"} & only)
            for name in ("floor", "api", "page"):  # warm up workers, pools and template caches
                if not targets[name][1]:
                    continue
                wrk(targets[name][0], targets[name][1], duration=2, connections=args.connections,
                    threads=args.threads, workdir=workdir)
            rows: dict[str, Any] = {}
            bare_runs: list[dict[str, float]] = []
            if png_ok and "png_cold" in only:
                # Cold images: the sampled ids' badge.png?size=m with default cache settings and no
                # warming, so the first round starts with no image of these badges drawn anywhere
                # (first touches included). Every round is reported, the first one separately.
                rows["png_cold"] = measure(url, [f"/v/{i}/badge.png?size=m" for i in ids], args, bare_url,
                                           workdir, bare_runs, "png_cold")
            else:
                rows["png_cold"] = None
            if png_ok and "png" in only:
                # The target is the *cached* image: every worker must first draw each badge once
                # (a few hundred ms each). Warm until two rounds agree within 20 %.
                previous = 0.0
                for _ in range(6):
                    warm = wrk(url, targets["png"][1], duration=3, connections=args.connections,
                               threads=args.threads, workdir=workdir)
                    if warm["non2xx"] == 0 and previous and abs(warm["rps"] - previous) <= 0.2 * previous:
                        break
                    previous = warm["rps"]
            for name, (base, paths) in targets.items():
                if name == "bare":
                    continue
                if not paths:
                    rows[name] = None
                    continue
                rows[name] = measure(base, paths, args, bare_url, workdir, bare_runs, name)
            bare_runs.sort(key=lambda r: r["rps"])
            rows["bare"] = {**bare_runs[len(bare_runs) // 2], "ratio": 1.0, "ratios": []}
            return {"size": size, "db": registry.kind, "startup": startup, "rows": rows}
        finally:
            stop(server)
            if floor_server is not None:
                stop(floor_server)
    finally:
        registry.drop()
        shutil.rmtree(workdir, ignore_errors=True)


# -- report ----------------------------------------------------------------------------------------
LABELS = {
    "bare": "bare Flask `GET /`",
    "floor": "our app, a view that does nothing (`bench/bare_app.py floor`: every hook the API pays)",
    "api": "`GET /api/v1/badges/<id>`",
    "page": "`GET /v/<id>`",
    "png_cold": "`GET /v/<id>/badge.png?size=m`, cold: 2,000 random ids, first touch included",
    "png": "`GET /v/<id>/badge.png?size=m`, hot: the same 20 ids, warmed",
    "status": "`GET /status/<list>`",
}


def table(result: dict[str, Any]) -> str:
    """Return one size's Markdown table."""
    rows = result["rows"]
    lines = [f"#### {result['size']:,} badges ({result['db']}); `liang serve` answered /healthz "
             f"{result['startup']:.2f} s after start",
             "", "| endpoint | req/s | p50 ms | p99 ms | × bare (median) | each round, in order | target | non-2xx "
             "| server CPU µs/req | bare CPU ÷ this CPU |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |"]
    for name, label in LABELS.items():
        row = rows.get(name)
        if row is None:
            lines.append(f"| {label} | not available | | | | | | | | |")
            continue
        ratio = row["ratio"]
        target = TARGETS.get(name)
        verdict = "" if target is None else f"≥ {target} {'✓' if ratio >= target else '✗ missed'}"
        each = ", ".join(f"{r:.2f}" for r in row.get("ratios", []))
        cpu_ratio = "" if name == "bare" else f"{row.get('cpu_ratio', float('nan')):.2f}"
        lines.append(f"| {label} | {row['rps']:,.0f} | {row['p50']:.2f} | {row['p99']:.2f} | {ratio:.2f} |"
                     f" {each} | {verdict} | {int(row['non2xx'])} | {row.get('cpu_us', float('nan')):,.0f} |"
                     f" {cpu_ratio} |")
    return "\n".join(lines)


def growth(results: list[dict[str, Any]]) -> str:
    """Return the p99 growth table: each size's p99 over the smallest size's."""
    by_db: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_db.setdefault(r["db"], []).append(r)
    lines: list[str] = []
    for db, rs in by_db.items():
        rs = sorted(rs, key=lambda r: r["size"])
        lines += ["", f"p99 against registry size ({db}):", "",
                  "| endpoint | " + " | ".join(f"{r['size']:,}" for r in rs) + " | largest ÷ smallest |",
                  "| --- |" + " ---: |" * (len(rs) + 1)]
        for name in ("api", "page", "png_cold", "png", "status"):
            if any(r["rows"].get(name) is None for r in rs):
                continue
            values = [r["rows"][name]["p99"] for r in rs]
            factor = values[-1] / values[0] if values[0] else float("nan")
            mark = "✓" if factor <= 1.2 else "✗ missed"
            lines.append(f"| {LABELS[name]} | " + " | ".join(f"{v:.2f} ms" for v in values)
                         + f" | {factor:.2f} {mark} |")
    return "\n".join(lines)


def bench_import(args: argparse.Namespace) -> str:
    """Run bench/bench_import.py."""
    script = ROOT / "bench" / "bench_import.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=1800,
                            check=False, cwd=ROOT)
    return "Bulk import:\n\n" + (result.stdout.strip() or result.stderr.strip())


def main() -> None:
    """Run the benchmark and print/write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="bare/endpoint pairs per endpoint (median reported)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both apps")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--no-import", action="store_true", help="skip the bulk-import benchmark")
    parser.add_argument("--database-url", default=os.environ.get("LIANG_BENCH_DATABASE_URL"),
                        help="also measure on this PostgreSQL database (a fresh schema per size, dropped after); "
                             "default: LIANG_BENCH_DATABASE_URL")
    parser.add_argument("--no-sqlite", action="store_true", help="measure only on --database-url")
    parser.add_argument("--only", default="floor,api,page,png_cold,png,status",
                        help="comma-separated endpoints to measure (of floor,api,page,png_cold,png,status)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not put the servers on one core and wrk on another (see PIN)")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not args.no_pin and len(cores) >= 2:
        PIN.update(server={cores[-1]}, wrk={cores[0]})
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is not installed (apt-get install -y wrk)")
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(not 1 <= s <= MAX_SIZE for s in sizes):
        raise SystemExit(f"bench: sizes must be between 1 and {MAX_SIZE:,}")
    info = machine()
    bare_port = free_port()
    bare_url = f"http://127.0.0.1:{bare_port}"
    bare, _ = start([sys.executable, str(ROOT / "bench" / "bare_app.py"), str(bare_port), str(args.workers)], {},
                    bare_url, "/")
    results = []
    try:
        databases = ([] if args.no_sqlite else [None]) + ([args.database_url] if args.database_url else [])
        if not databases:
            raise SystemExit("bench: --no-sqlite needs --database-url")
        for base_db in databases:
            for size in sizes:
                results.append(measure_size(size, args, bare_url, base_db))
    finally:
        stop(bare)
    report = [
        "# Benchmark results", "",
        f"- date: {info['date']}",
        f"- machine: {info['nproc']} × {info['cpu']}, {info['ram']} RAM; {info['os']}; Python {info['python']}",
        f"- load average at start: {info['load']} (other work on the machine skews absolute numbers; "
        "each ratio is the median of rounds that run the bare app and the endpoint back to back)",
        f"- load: wrk, {args.threads} thread(s), {args.connections} connections, {args.rounds} rounds × "
        f"({args.duration} s bare + {args.duration} s endpoint) per endpoint, "
        f"random badge per request over {SAMPLE:,} ids; both apps: gunicorn gthread, {args.workers} workers × 4 threads",
        "- placement: " + (f"both servers on core {sorted(PIN['server'])[0]}, wrk on core {sorted(PIN['wrk'])[0]} "
                           "(the database server is not pinned)" if PIN else "not pinned"),
        f"- rate-limit storage: {'Redis' if os.environ.get('LIANG_BENCH_REDIS_URL') else 'memory'} "
        "(limiter on, limit out of reach)",
        "", "Command: `.venv/bin/python bench/run.py " + " ".join(sys.argv[1:]) + "`", "",
    ]
    for r in results:
        report += [table(r), ""]
    report += [growth(results), "", bench_import(args) if not args.no_import else "Bulk import: skipped.", ""]
    text = "\n".join(report)
    print(text)
    Path(args.output).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
