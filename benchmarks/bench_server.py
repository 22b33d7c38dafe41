"""Load test: a real `emovox serve` process, clients x requests of a clip, and its memory.

    python benchmarks/bench_server.py [--model MODEL] [--loads 8x50 32x20] [--seconds 3] [--concurrency 2]

Starts one server per ``--concurrency`` value (uvicorn in a child process on a free loopback
port). For each ``--loads`` entry CxN, C client threads (httpx, keep-alive) post the clip to
``--route`` N times each; the table gives errors, requests/s and p50/p95/p99 latency. Then the
server's resident memory (VmRSS) is read once it has answered ``--rss-after`` requests (more are
sent if the loads made fewer), beside its RSS after the warm-up. The model defaults to the
built-in one when it is installed. Run from the repository root; nothing is asserted, it measures.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SR = 16_000


def speech_like(seconds: float = 3.0, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """A voiced buzz with a gliding pitch and a 4 Hz syllable envelope (as in the tests)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))) / SR
    voiced = sum(np.sin(k * phase) / k for k in range(1, 20))
    x = voiced * 0.5 * (1 - np.cos(2 * np.pi * 4 * t)) ** 2 + 0.01 * rng.standard_normal(t.size)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def wav_bytes(signal: np.ndarray) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, signal, SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, concurrency: int | None = None, threads: int | None = None,
                 log_path: Path | None = None) -> tuple[subprocess.Popen, str]:
    """`emovox serve` on a free port. Its output goes to ``log_path`` (a temporary file by default):
    a pipe nobody reads would fill and block a server that logs a lot (hostile requests do)."""
    port = free_port()
    cmd = [sys.executable, "-m", "emovox", "serve", "--port", str(port), "--model", model, "--log-level", "warning"]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    if threads:
        cmd += ["--threads", str(threads)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix="emovox-serve-", suffix=".log")[1])
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server failed to start:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.25)
    proc.kill()
    raise SystemExit("server did not start within 300 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def client_loop(url: str, route: str, clip: bytes, n: int) -> tuple[list[float], list[str]]:
    latencies, errors = [], []
    with httpx.Client(timeout=120) as client:
        for _ in range(n):
            start = time.perf_counter()
            try:
                r = client.post(url + route, files={"file": ("clip.wav", clip, "audio/wav")})
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:200]}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            latencies.append(time.perf_counter() - start)
    return latencies, errors


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """A process' memory in MiB from Linux /proc (``VmRSS``: resident now; ``VmHWM``: its peak so
    far), or None where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def parse_load(text: str) -> tuple[int, int]:
    try:
        clients, requests = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CLIENTSxREQUESTS like 8x50, got {text!r}") from None
    return clients, requests


def run_load(url: str, route: str, clip: bytes, clients: int, requests: int) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda _: client_loop(url, route, clip, requests), range(clients)))
    wall = time.perf_counter() - start
    latencies = np.array([x for lat, _ in results for x in lat]) * 1000
    errors = [e for _, errs in results for e in errs]
    return {
        "requests": latencies.size, "errors": errors, "wall_s": wall, "rps": latencies.size / wall,
        "clients": clients, "per_client": requests,
        "p50": float(np.percentile(latencies, 50)), "p95": float(np.percentile(latencies, 95)),
        "p99": float(np.percentile(latencies, 99)), "mean": float(latencies.mean()),
    }


def measure_server(model: str, conc: int, args, clip: bytes) -> dict:
    """Every load against one fresh server, then its RSS after ``args.rss_after`` requests."""
    proc, url = start_server(model, conc, args.threads)
    try:
        client_loop(url, args.route, clip, 4)  # warm up: first requests, connection path
        sent = 4
        rss_warm = rss_mb(proc.pid)
        loads = []
        for clients, requests in args.loads:
            loads.append(run_load(url, args.route, clip, clients, requests))
            sent += clients * requests
        extra = max(args.rss_after - sent, 0)
        if extra:
            _, errors = client_loop(url, args.route, clip, extra)
            loads[-1]["errors"] += errors
            sent += extra
        return {"concurrency": conc, "loads": loads, "rss_warm": rss_warm, "rss_after": rss_mb(proc.pid),
                "sent": sent}
    finally:
        stop_server(proc)


def default_model() -> str | None:
    sys.path.insert(0, str(ROOT / "src"))
    from emovox.models.registry import default_spec, is_installed

    spec = default_spec()
    return spec.name if is_installed(spec) else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model name or folder (default: the built-in model, if installed)")
    ap.add_argument("--loads", type=parse_load, nargs="+", default=[(8, 50), (32, 20)],
                    metavar="CxN", help="C clients x N requests each, run one after another (default 8x50 32x20)")
    ap.add_argument("--seconds", type=float, default=3.0, help="clip length")
    ap.add_argument("--route", default="/v1/analyze", help="route to post to (multipart field 'file')")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[2], help="server settings to compare")
    ap.add_argument("--threads", type=int, default=None, help="model CPU threads (server --threads)")
    ap.add_argument("--rss-after", type=int, default=1000, help="read the server's RSS after this many requests")
    args = ap.parse_args()
    model = args.model or default_model()
    if model is None:
        ap.error("the built-in model is not installed in this checkout: pass --model NAME_OR_DIR")
    clip = wav_bytes(speech_like(args.seconds))
    runs = [measure_server(model, conc, args, clip) for conc in args.concurrency]
    print_table(runs, model, args)
    return 1 if any(load["errors"] for run in runs for load in run["loads"]) else 0


def print_table(runs: list[dict], model: str, args) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"emovox serve: {args.seconds:g} s clip, POST {args.route}, model {model}")
    for col in ("server concurrency", "clients x requests", "requests", "errors", "wall s", "requests/s",
                "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col, justify="right")
    for run in runs:
        for r in run["loads"]:
            table.add_row(str(run["concurrency"]), f"{r['clients']} x {r['per_client']}", str(r["requests"]),
                          str(len(r["errors"])), f"{r['wall_s']:.1f}", f"{r['rps']:.1f}", f"{r['p50']:.0f}",
                          f"{r['p95']:.0f}", f"{r['p99']:.0f}")
    memory = Table(title="server memory (VmRSS)")
    for col in ("server concurrency", "RSS MiB after warm-up", "requests answered", "RSS MiB after them"):
        memory.add_column(col, justify="right")
    for run in runs:
        memory.add_row(str(run["concurrency"]), _mb(run["rss_warm"]), str(run["sent"]), _mb(run["rss_after"]))
    console = Console(width=120)
    console.print(table)
    console.print(memory)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    console.print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
                  + (f", load average {load[0]:.1f} at the end" if load else ""))
    for run in runs:
        for r in run["loads"]:
            for e in sorted(set(r["errors"]))[:10]:
                console.print(f"[red]concurrency {run['concurrency']} error:[/] {e}")


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


if __name__ == "__main__":
    sys.exit(main())
