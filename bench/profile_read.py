#!/usr/bin/env python3
"""Where the µs of one read go, in process: `.venv/bin/python bench/profile_read.py [--size N] [--requests N]`.

Builds a fresh SQLite registry the way bench/run.py does (the service's own ``create_app`` with
the same LIANG_* settings as ``liang serve`` in the benchmark: JSON access log, metrics, limiter
on), then calls the WSGI app directly — no server, no sockets — for the bare Flask app, the
verify API, the verify page and ``badge.png?size=m`` (cold: every request a different badge
drawn or composed; hot: one badge, from the render cache), random badge per request. Prints CPU
µs per request (``time.process_time``) and, with ``--profile``, the top cProfile entries of each.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _environ(path: str) -> dict[str, Any]:
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "wsgi.version": (1, 0)}


def _call(app: Any, path: str) -> None:
    status: list[str] = []
    body = app(_environ(path), lambda s, h, exc_info=None: status.append(s))
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close:
            close()
    if not status[0].startswith(("200", "304")):
        raise SystemExit(f"{path}: {status[0]}")


def run(app: Any, paths: list[str], count: int, profile: bool) -> tuple[float, str]:
    """Return CPU µs per request over ``count`` requests (and the profile text)."""
    chosen = [random.choice(paths) for _ in range(count)]
    profiler = cProfile.Profile() if profile else None
    start = time.process_time()
    if profiler:
        profiler.enable()
    for path in chosen:
        _call(app, path)
    if profiler:
        profiler.disable()
    spent = (time.process_time() - start) / count * 1e6
    text = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(int(os.environ.get("PROFILE_TOP", "18")))
        text = out.getvalue()
    return spent, text


def main() -> None:
    """Seed, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL base URL (a fresh schema, dropped after); default: SQLite")
    parser.add_argument("--cases", default="bare,floor,api,page,png_cold,png",
                        help="comma-separated subset of bare,floor,api,page,png_cold,png,status")
    args = parser.parse_args()
    import logging

    import run as bench  # bench/run.py
    from bare_app import FLOOR_PATH, create_bare, create_floor

    from verifier.app import create_app

    with tempfile.TemporaryDirectory(prefix="liang-profile-") as tmp:
        workdir = Path(tmp)
        registry = bench.Registry(workdir, args.database_url)
        env = bench.env_for(registry, workdir / "instance", "http://127.0.0.1:8000")
        os.environ.update(env)
        import subprocess

        subprocess.run([sys.executable, "-m", "verifier", "init"], env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT)
        real, ids, status_path = bench.seed(env, args.size)
        app = create_app()
        floor = create_floor() if "floor" in args.cases.split(",") else None
        # The access log goes to stderr in the service; here to /dev/null, formatted the same way.
        from verifier.web.ops import JsonFormatter

        null = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
        null.setFormatter(JsonFormatter())  # the service's own format (LIANG_LOG_FORMAT=json)
        logging.getLogger().handlers[:] = [null]
        bare = create_bare()
        every = {
            "bare": ("bare Flask `GET /`", bare, ["/"]),
            "floor": ("our app, a view that does nothing (every hook the API pays)", floor, [FLOOR_PATH]),
            "api": ("`GET /api/v1/badges/<id>`", app, [f"/api/v1/badges/{i}" for i in ids]),
            "page": ("`GET /v/<id>`", app, [f"/v/{i}" for i in ids]),
            "png_cold": ("`badge.png?size=m`, cold (each id's first touch, then composed)", app,
                         [f"/v/{i}/badge.png?size=m" for i in ids]),
            "png": ("`badge.png?size=m`, hot (one badge)", app, [f"/v/{real[0]}/badge.png?size=m"]),
            "status": ("`GET /status/<list>`", app, [status_path]),
        }
        cases = {every[c][0]: every[c][1:] for c in args.cases.split(",")}
        load = os.getloadavg()
        print(f"registry {args.size:,} ({registry.kind}), {args.requests:,} requests per case, "
              f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
        print("| case | CPU µs per request |\n| --- | ---: |")
        profiles = []
        for label, (target, paths) in cases.items():
            if "cold" not in label:
                run(target, paths, 300, False)  # warm-up
            spent, text = run(target, paths, args.requests, args.profile)
            print(f"| {label} | {spent:,.0f} |")
            profiles.append((label, text))
        if args.profile:
            for label, text in profiles:
                print(f"\n### {label}\n\n```\n{text.strip()}\n```")
        app.extensions["liang.db"].dispose()
        registry.drop()


if __name__ == "__main__":
    main()
