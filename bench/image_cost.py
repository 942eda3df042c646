#!/usr/bin/env python3
"""CPU cost of one badge image, drawn against composed: `.venv/bin/python bench/image_cost.py [--repeat N]`.

For each size (and the SVG) it measures, with ``time.process_time`` (best of five batches):

* **first touch**: drawing a badge's static layer (texts as masks, QR modules) — what the
  first request for a badge (or after a rename / re-sign) pays once, before it is kept;
* **composed**: putting state and date on a kept layer, encoding the palette PNG and baking
  the credential — what every later uncached request pays (in the service, plus reading
  the layer from memory or the database);
* **old drawing** for comparison, when ``--old`` names a git revision with the previous renderer.

The shared frames (one per state and size) are drawn before timing: a process does that
once in its life. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signer.images import (  # noqa: E402
    SIZES,
    BadgeFace,
    compose_png,
    compose_svg,
    draw_static_png,
    draw_static_svg,
)

JWS = "eyJhbGciOiJFZERTQSJ9." + "e" * 900 + ".c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"  # ≈ a real credential's length
FACE = BadgeFace(badge_id="7K3M-9QX2-HT4B", shop_name="义乌小商品老张家手工茶叶店", branch_name="第一支部",
                 platform="taobao", status="valid", checked_on="2026-11-30",
                 verify_url="http://127.0.0.1:8000/v/7K3M-9QX2-HT4B")


def cost(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Return the best per-call CPU time in ms over five batches of ``repeat`` calls."""
    fn()
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(repeat):
            fn()
        best = min(best, (time.process_time() - start) / repeat)
    return best * 1000


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; CPU ms per image, best of 5 × {args.repeat}\n")
    print("| image | first touch: draw static layer | composed: valid | composed: revoked | bytes (m: valid) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    revoked = dataclasses.replace(FACE, status="revoked")
    for size in SIZES:
        static = draw_static_png(FACE, size=size)
        first = cost(lambda s=size: draw_static_png(FACE, size=s), max(1, args.repeat // 4))
        valid = cost(lambda s=size, st=static: compose_png(FACE, size=s, credential=JWS, static=st), args.repeat)
        gone = cost(lambda s=size, st=static: compose_png(revoked, size=s, credential=JWS, static=st), args.repeat)
        size_bytes = len(compose_png(FACE, size=size, credential=JWS, static=static))
        print(f"| `badge.png?size={size}` | {first:.2f} | {valid:.2f} | {gone:.2f} | {size_bytes:,} "
              f"({size_bytes - len(JWS):,} without the credential) |")
    static = draw_static_svg(FACE)
    first = cost(lambda: draw_static_svg(FACE), max(1, args.repeat // 4))
    valid = cost(lambda: compose_svg(FACE, credential=JWS, static=static), args.repeat)
    gone = cost(lambda: compose_svg(revoked, credential=JWS, static=static), args.repeat)
    print(f"| `badge.svg` | {first:.2f} | {valid:.2f} | {gone:.2f} | "
          f"{len(compose_svg(FACE, credential=JWS, static=static)):,} |")


if __name__ == "__main__":
    main()
