"""Live latency: a client streams a recording at real-time pace to ``/v1/stream`` of a real server.

    python benchmarks/bench_live.py                      # built-in model, 60 s of RAVDESS clips + pauses
    python benchmarks/bench_live.py --model DIR --seconds 30 --hop 1

``emovox serve`` runs in a child process on a free loopback port. The client sends 20 ms PCM16
frames on a wall-clock schedule (real-time pace) from one thread and receives events on another.
Latency of a ``result`` event = the time it arrived minus the time the frame holding the last
sample of its window was sent: what a user waits between saying something and seeing it scored.
The issue's target: results no later than one hop behind real time (latency <= hop).
The stream adapts to its own speech after 20 speech results (``--no-adapt``: asks it not to); the
table counts the adapted results and gives their latency apart (they include the wait, if any, for
the session's reference).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_timeline import build_file, corpus_rows  # noqa: E402

FRAME_S = 0.02


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str | None, log: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "emovox", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--model", model] if model else []
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env)  # noqa: SIM115
    url = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.kill()
    sys.exit("server did not start in 180 s")


def stream_file(url: str, pcm: np.ndarray, window_s: float, hop_s: float,
                adapt: bool = True) -> tuple[list[tuple], dict]:
    """Send ``pcm`` (int16, 16 kHz) at real-time pace; return (latency s, speech?) per result, counts."""
    from websockets.sync.client import connect

    frame = int(FRAME_S * 16000)
    sent_at: list[float] = []  # wall time each frame was sent
    events: list[tuple[float, dict]] = []
    with connect(f"ws://{url}/v1/stream", max_size=None) as ws:
        settings = {"sample_rate": 16000, "window_s": window_s, "hop_s": hop_s}
        ws.send(json.dumps(settings if adapt else {**settings, "adapt": False}))
        json.loads(ws.recv())  # ready

        def receive() -> None:
            try:
                for message in ws:
                    events.append((time.perf_counter(), json.loads(message)))
            except Exception:  # closed
                return

        reader = threading.Thread(target=receive, daemon=True)
        reader.start()
        start = time.perf_counter()
        for i in range(0, pcm.size, frame):
            due = start + (i // frame) * FRAME_S
            time.sleep(max(0.0, due - time.perf_counter()))
            ws.send(pcm[i : i + frame].tobytes())
            sent_at.append(time.perf_counter())
        ws.send(json.dumps({"type": "end"}))
        reader.join(timeout=60)
    latencies = []  # (seconds, speech?, adapted?)
    for arrived, e in events:
        if e.get("type") != "result":
            continue
        last = int(round(e["end"] * 16000)) - 1  # the window's last sample
        latencies.append((arrived - sent_at[min(last // frame, len(sent_at) - 1)], e["speech"],
                          bool(e.get("adapted"))))
    kinds = [e.get("type") for _, e in events]
    counts = {k: kinds.count(k) for k in ("speech_start", "result", "speech_end", "error")}
    counts["speech results"] = sum(1 for _, e in events if e.get("type") == "result" and e["speech"])
    return latencies, counts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None, help="model name or folder (default: built-in)")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the streamed recording")
    p.add_argument("--window", type=float, default=3.0)
    p.add_argument("--hop", type=float, default=1.0)
    p.add_argument("--no-adapt", action="store_true", help="ask the stream not to adapt to the session")
    args = p.parse_args()
    import soundfile as sf

    folder, rows = corpus_rows("ravdess", None)
    with tempfile.TemporaryDirectory(prefix="emovox-bench-live-") as tmp:
        path = Path(tmp) / "live.flac"
        build_file(path, folder, rows, args.seconds, "pauses", seed=7)
        audio, _ = sf.read(path, dtype="int16")
        proc, url = start_server(args.model, Path(tmp) / "server.log")
        try:
            load = os.getloadavg()[0]
            latencies, counts = stream_file(url, audio, args.window, args.hop, adapt=not args.no_adapt)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    ms = np.array([x for x, _, _ in latencies]) * 1000
    speech_ms = np.array([x for x, speech, _ in latencies if speech]) * 1000
    adapted_ms = np.array([x for x, speech, adapted in latencies if speech and adapted]) * 1000
    print(f"live latency over /v1/stream: {audio.size / 16000:.1f} s streamed at real-time pace in "
          f"{FRAME_S * 1000:.0f} ms frames, window {args.window:g} s, hop {args.hop:g} s, model {args.model or 'built-in'}")
    print("| results | speech_start | speech_end | errors | all results p50 / p95 / max ms | "
          "speech results (model run) n, p50 / p95 / max ms | adapted results n, p50 / p95 / max ms | target |")
    print("|---|---|---|---|---|---|---|---|")
    met = "met" if ms.size and ms.max() <= args.hop * 1000 else "missed"

    def trio(x: np.ndarray) -> str:
        return f"{np.percentile(x, 50):.1f} / {np.percentile(x, 95):.1f} / {x.max():.1f}" if x.size else "-"

    print(f"| {counts['result']} | {counts['speech_start']} | {counts['speech_end']} | {counts['error']} | "
          f"{trio(ms)} | {speech_ms.size}, {trio(speech_ms)} | {adapted_ms.size}, {trio(adapted_ms)} | max <= hop ({args.hop * 1000:.0f} ms): {met} |")
    print(f"load average (1 min) at the start: {load:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
