"""Revocation latency and verify p99 during a storm of complaint photo uploads (issue 24 C).

Starts ``liang serve`` (2 workers x 4 threads) on a fresh instance, sends ``--uploaders``
concurrent complaint uploads, each with three 150 KB pictures of 6200 x 6200 pixels, from
rotating client addresses (``X-Forwarded-For`` behind one trusted hop), while one client
verifies a badge in a loop; after a few seconds a committee revocation runs through the CLI.
Prints the figures as one JSON object.

    .venv/bin/python bench/upload_storm.py [--database-url URL] [--port 18810] [--seconds 20]
    # before a change: --source /path/to/an/older/checkout (put first on PYTHONPATH)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests
from PIL import Image

KEK = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s"


def _picture(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6200, 6200), (200, 30, 30)).save(out, format=fmt, **({"quality": 5} if fmt == "JPEG" else {}))
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--port", type=int, default=18810)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--uploaders", type=int, default=8)
    parser.add_argument("--format", choices=["PNG", "JPEG"], default="PNG")
    parser.add_argument("--source", default=None, help="checkout to run (default: this one)")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="liang-storm-")
    env = {**os.environ, "LIANG_INSTANCE_DIR": instance, "LIANG_KEY_ENCRYPTION_KEY": KEK,
           "LIANG_PUBLIC_URL": f"http://127.0.0.1:{args.port}", "LIANG_TRUSTED_PROXIES": "1",
           "LIANG_LOG_FORMAT": "text", "LIANG_VERIFY_RATE_LIMIT": "100000 per minute",
           "LIANG_DATABASE_URL": args.database_url or f"sqlite:///{instance}/liang.sqlite3"}
    if args.source:
        env["PYTHONPATH"] = args.source
    cli = [sys.executable, "-m", "verifier"]

    def run(*words: str) -> str:
        return subprocess.run([*cli, *words], env=env, check=True, capture_output=True, text=True,
                              cwd=args.source or None).stdout

    run("init")
    run("branch", "add", "B01", "第一支部")
    victim = json.loads(run("badge", "issue", "--holder", "甲", "--shop-name", "甲店", "--shop-url",
                            "https://a.taobao.com", "--platform", "taobao", "--branch", "B01", "--json"))["id"]
    target = json.loads(run("badge", "issue", "--holder", "乙", "--shop-name", "乙店", "--shop-url",
                            "https://b.taobao.com", "--platform", "taobao", "--branch", "B01", "--json"))["id"]
    server = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(args.port), "--workers", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=args.source or None)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(200):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        picture = _picture(args.format)
        stop = threading.Event()
        uploads: dict[int, int] = {}
        lock = threading.Lock()
        counter = iter(range(10**9))

        def uploader() -> None:
            while not stop.is_set():
                n = next(counter)
                files = [("evidence", (f"p{i}.{args.format.lower()}", picture)) for i in range(3)]
                try:
                    code = requests.post(f"{base}/api/v1/badges/{victim}/complaints",
                                         data={"category": "quality", "description": f"storm {n}"}, files=files,
                                         headers={"X-Forwarded-For": f"10.{n // 250 % 250}.{n % 250}.1"},
                                         timeout=120).status_code
                except requests.RequestException:
                    code = 0
                with lock:
                    uploads[code] = uploads.get(code, 0) + 1

        latencies: list[float] = []
        failures = 0

        def verifier() -> None:
            nonlocal failures
            session = requests.Session()
            while not stop.is_set():
                started = time.monotonic()
                try:
                    ok = session.get(f"{base}/api/v1/badges/{target}", timeout=120).status_code == 200
                except requests.RequestException:
                    ok = False
                latencies.append(time.monotonic() - started)
                failures += 0 if ok else 1

        threads = [threading.Thread(target=uploader, daemon=True) for _ in range(args.uploaders)]
        threads.append(threading.Thread(target=verifier, daemon=True))
        for thread in threads:
            thread.start()
        time.sleep(min(5.0, args.seconds / 3))
        started = time.monotonic()
        revoke = subprocess.run([*cli, "badge", "revoke", target, "--reason", "misconduct"], env=env,
                                capture_output=True, text=True, cwd=args.source or None)
        revocation = time.monotonic() - started
        time.sleep(max(0.0, args.seconds - (time.monotonic() - started) - 5))
        stop.set()
        for thread in threads:
            thread.join(150)
        ordered = sorted(latencies)
        print(json.dumps({
            "database": "postgresql" if args.database_url else "sqlite",
            "picture": {"format": args.format, "bytes": len(picture), "pixels": "6200x6200", "per_request": 3},
            "uploaders": args.uploaders, "seconds": args.seconds,
            "revocation_seconds": round(revocation, 2), "revocation_exit": revoke.returncode,
            "verify": {"count": len(ordered), "failed": failures,
                       "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
                       "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1) if len(ordered) > 1 else None,
                       "max_ms": round(ordered[-1] * 1000, 1) if ordered else None},
            "uploads_by_status": uploads,
            "machine": {"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)},
        }))
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
