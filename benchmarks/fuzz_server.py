"""The long fuzz profile: Hypothesis inputs against every route that takes a client's bytes or text and
both WebSockets, in-process (the app on a native test model with an adapted head, as the CI profile),
counted instead of stopped at the first failure.

    python benchmarks/fuzz_server.py [--examples 700] [--routes /v1/text ...] [--show 5]

Prints, per route: inputs, 2xx, 4xx, 5xx, the slowest answer, WebSocket sessions that ended
without a close frame, and property failures (5xx, not JSON, no readable detail, over the time
limit); then the first ``--show`` failures. The strategies and the property are the CI suite's
(``tests/fuzz_support.py``); the long profile is random (not derandomized) and ``--examples`` per
route. Exits 1 when any input broke the property.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=700, help="generated inputs per route (default 700)")
    parser.add_argument("--routes", nargs="*", help="only these routes (default: all)")
    parser.add_argument("--show", type=int, default=5, help="failures printed in full")
    args = parser.parse_args()

    import tempfile

    from fastapi.testclient import TestClient
    from hypothesis import settings

    import fuzz_support as fz
    from adapt_helpers import write_adaptable_model

    routes = args.routes or [*fz.HTTP_ROUTES, *fz.WS_ROUTES]
    long = settings(settings.get_profile("emovox-long"), max_examples=args.examples)
    rows, failures = [], []
    print(f"# fuzz_server: {args.examples} examples per route, time limit {fz.TIME_LIMIT_S:g} s, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp, \
            TestClient(fz.make_app(write_adaptable_model(Path(tmp))), raise_server_exceptions=False) as client:
        fz.silence_logs()
        for route in routes:
            counts = {"inputs": 0, "2xx": 0, "4xx": 0, "5xx": 0, "max_s": 0.0, "ws_no_close": 0, "failed": 0}
            is_ws = route in fz.WS_ROUTES

            def record(out, counts=counts):
                counts["inputs"] += 1
                key = f"{min(out.status // 100, 5)}xx"
                counts[key if key in counts else "4xx"] += 1
                counts["max_s"] = max(counts["max_s"], out.seconds)
                counts["ws_no_close"] += out.ws_no_close
                if out.failure:
                    counts["failed"] += 1
                    failures.append(out.failure)

            one = long(_session_test(fz, client, route, record) if is_ws else _request_test(fz, client, route, record))
            start = time.perf_counter()
            one()
            counts["wall_s"] = time.perf_counter() - start
            rows.append((route, counts))
            print(f"  {route}: {counts['inputs']} inputs, {counts['failed']} failed, {counts['wall_s']:.0f} s",
                  flush=True)

    print("\n| route | inputs | 2xx | 4xx | 5xx | max s | WS without close | property failures |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    total = {k: 0 for k in ("inputs", "2xx", "4xx", "5xx", "ws_no_close", "failed")}
    for route, c in rows:
        print(f"| `{route}` | {c['inputs']:,} | {c['2xx']:,} | {c['4xx']:,} | {c['5xx']:,} | {c['max_s']:.2f} | "
              f"{c['ws_no_close'] if route in fz.WS_ROUTES else '-'} | {c['failed']} |")
        for k in total:
            total[k] += c[k]
    print(f"| all | {total['inputs']:,} | {total['2xx']:,} | {total['4xx']:,} | {total['5xx']:,} | "
          f"{max(c['max_s'] for _, c in rows):.2f} | {total['ws_no_close']} | {total['failed']} |")
    print("\nWebSocket rows count sessions (a few messages each); their 4xx are sessions with an error event.")
    for failure in failures[:args.show]:
        print(f"\nFAILED {failure}")
    return 1 if failures else 0


def _request_test(fz, client, route, record):
    from hypothesis import given

    @given(request=fz.http_requests(route))
    def one(request):
        record(fz.check_http(client, request))

    return one


def _session_test(fz, client, route, record):
    from hypothesis import given

    @given(session=fz.ws_sessions(route))
    def one(session):
        record(fz.run_ws(client, route, session[1]))

    return one


if __name__ == "__main__":
    sys.exit(main())
