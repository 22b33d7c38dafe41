"""Server memory under hostile load: a real `emovox serve`, its RSS after the warm-up, after 1,000
mixed valid requests, and after each quarter of 100 large rejected bodies.

    python benchmarks/bench_server_memory.py [--model MODEL] [--valid 1000] [--rejected 100] [--rounds 8] [--clients 2]

The warm-up sends one request of each kind below (so the voice, text and face models are loaded).
The valid mix cycles through: a 3 s WAV to ``/v1/analyze``, a text to ``/v1/text``, audio + text to
the seed's multimodal route, a PNG to ``/v1/analyze`` (faces), a 1 s MP4 with sound to the seed's
analyze/file. The rejected bodies cycle through four kinds: 40 MB of base64 (zero bytes) as
``video_base64`` (415: neither image nor video), 56 MB of zero bytes base64-encoded (413: over the
50 MiB video limit once decoded), a 30 MB raw body to ``/v1/analyze`` (413: over the 25 MiB audio
limit), 40 MB of base64 with a bad character at its end (422). Then ``--rounds`` rounds as in the
issue's measurement: the 40 MB body, and a 2-minute WAV to ``/v1/analyze`` and to the multimodal
route (200). Nothing is asserted; it measures (VmRSS and the peak VmHWM from /proc, read
``SETTLE_S`` after the last answer, once the server has released what the request held).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_server import default_model, rss_mb, speech_like, start_server, stop_server, wav_bytes  # noqa: E402

from media_helpers import moving_frames, video_bytes  # noqa: E402  (the tests' media builders)

MB = 1_000_000
SETTLE_S = 1.0  # RSS is read this long after the last answer: the server frees a large body after answering


def png_bytes() -> bytes:
    import io

    from PIL import Image

    rgb = np.zeros((240, 320, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, 320, dtype=np.uint8)[None, :]
    rgb[60:120, 80:160] = (240, 200, 30)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def mp4_bytes(seconds: float = 1.0, fps: int = 10) -> bytes:
    """A short MP4 (a square moving over a drawn picture, no face) with speech-like AAC audio."""
    return video_bytes(moving_frames(seconds, fps), fps, audio=speech_like(seconds))


def valid_requests() -> list[tuple[str, dict]]:
    wav = wav_bytes(speech_like(3.0))
    wav64 = base64.b64encode(wav).decode()
    return [
        ("/v1/analyze", {"files": {"file": ("clip.wav", wav, "audio/wav")}}),
        ("/v1/text", {"json": {"text": "I can't believe you did this, I'm so happy for you!"}}),
        ("/api/v1/emotion/analyze/multimodal", {"json": {"audio_base64": wav64, "text": "Stop lying to me."}}),
        ("/v1/analyze", {"files": {"file": ("frame.png", png_bytes(), "image/png")}}),
        ("/api/v1/emotion/analyze/file", {"files": {"file": ("talk.mp4", mp4_bytes(), "video/mp4")},
                                          "data": {"analysis_type": "video"}}),
    ]


def rejected_requests() -> list[tuple[str, dict, str]]:
    """(route, request, what) for the four large bodies the server must refuse."""
    def as_json(value: str) -> dict:
        return {"content": json.dumps({"video_base64": value}).encode(), "headers": {"content-type": "application/json"}}

    zeros40 = base64.b64encode(bytes(30 * MB)).decode()  # 40 MB of base64
    return [
        ("/api/v1/emotion/analyze/multimodal", as_json(zeros40), "40 MB base64 of zeros (415)"),
        ("/api/v1/emotion/analyze/multimodal", as_json(base64.b64encode(bytes(56 * MB)).decode()),
         "56 MB of zeros as base64 (413)"),
        ("/v1/analyze", {"content": bytes(30 * MB), "headers": {"content-type": "audio/wav"}}, "30 MB raw body (413)"),
        ("/api/v1/emotion/analyze/multimodal", as_json(zeros40[:-4] + "!!!!"), "40 MB bad base64 (422)"),
    ]


def progress(row: tuple) -> None:
    """One line on stderr as each measuring point is reached (the table comes at the end)."""
    name, (rss, peak), note = row
    mib = lambda v: "n/a" if v is None else f"{v:.0f} MiB"  # noqa: E731
    print(f"{name}: RSS {mib(rss)}, peak {mib(peak)} ({note})", file=sys.stderr, flush=True)


def settled_rss(pid: int) -> tuple[float | None, float | None]:
    """(RSS now, peak RSS so far) in MiB, read ``SETTLE_S`` after the last answer."""
    time.sleep(SETTLE_S)
    return rss_mb(pid), rss_mb(pid, "VmHWM")


def send(client: httpx.Client, url: str, route: str, request: dict) -> int:
    try:
        return client.post(url + route, **request).status_code
    except httpx.HTTPError:
        return 0  # e.g. the server closed the connection after a 413 before the whole body was sent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model name or folder (default: the built-in model, if installed)")
    ap.add_argument("--valid", type=int, default=1000, help="mixed valid requests after the warm-up")
    ap.add_argument("--rejected", type=int, default=100, help="large rejected bodies")
    ap.add_argument("--rounds", type=int, default=8, help="then rounds of a 40 MB rejected body and a 2-minute WAV "
                    "on two routes (the issue's measurement)")
    ap.add_argument("--clients", type=int, default=2, help="client threads for the valid requests")
    args = ap.parse_args()
    model = args.model or default_model()
    if model is None:
        ap.error("the built-in model is not installed in this checkout: pass --model NAME_OR_DIR")
    valid, rejected = valid_requests(), rejected_requests()
    long_wav = wav_bytes(speech_like(120.0))
    long_requests = [("/v1/analyze", {"files": {"file": ("long.wav", long_wav, "audio/wav")}}),
                     ("/api/v1/emotion/analyze/multimodal", {"json": {"audio_base64": base64.b64encode(long_wav).decode()}})]
    log_dir = tempfile.TemporaryDirectory()
    proc, url = start_server(model, log_path=Path(log_dir.name) / "server.log")
    rows: list[tuple[str, float | None, str]] = []
    try:
        with httpx.Client(timeout=300) as client:
            start = time.perf_counter()
            warm = [send(client, url, r, q) for r, q in valid]
            rows.append(("after the warm-up", settled_rss(proc.pid), f"{len(warm)} requests: {_counts(warm)}"))

            def worker(k: int) -> list[int]:
                with httpx.Client(timeout=300) as c:
                    return [send(c, url, *valid[i % len(valid)]) for i in range(k, args.valid, args.clients)]

            with ThreadPoolExecutor(args.clients) as pool:
                statuses = [s for part in pool.map(worker, range(args.clients)) for s in part]
            rows.append((f"after {args.valid:,} mixed valid requests", settled_rss(proc.pid),
                         f"{_counts(statuses)}, {time.perf_counter() - start:.0f} s"))
            progress(rows[-1])
            quarter = max(args.rejected // 4, 1)
            statuses = []
            for i in range(args.rejected):
                route, request, _ = rejected[i % len(rejected)]
                statuses.append(send(client, url, route, request))
                if (i + 1) % quarter == 0 or i + 1 == args.rejected:
                    rows.append((f"after {i + 1} large rejected bodies", settled_rss(proc.pid),
                                 f"{_counts(statuses)}; {time.perf_counter() - start:.0f} s"))
                    progress(rows[-1])
            statuses = []
            for i in range(args.rounds):  # the rounds: a 40 MB rejected body, a 2-minute WAV on two routes
                statuses.append(send(client, url, *rejected[0][:2]))
                statuses += [send(client, url, r, q) for r, q in long_requests]
                if i + 1 in (1, 2, 4) or i + 1 == args.rounds:
                    rows.append((f"after round {i + 1}: 40 MB rejected + 2-min WAV on 2 routes", settled_rss(proc.pid),
                                 f"{_counts(statuses)}; {time.perf_counter() - start:.0f} s"))
                    progress(rows[-1])
    finally:
        stop_server(proc)
        log_dir.cleanup()
    print_table(rows, model, rejected)
    return 0


def _counts(statuses: list[int]) -> str:
    out: dict[int, int] = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return " ".join(f"{k or 'dropped'}x{v}" for k, v in sorted(out.items()))


def print_table(rows, model: str, rejected) -> None:
    warm = rows[0][1][0] or 0.0
    print(f"emovox serve memory (VmRSS), model {model}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print("rejected bodies, in turn: " + "; ".join(what for _, _, what in rejected))
    print("\n| point | RSS MiB | vs warm-up | peak RSS MiB so far | answers (status x count) |")
    print("|---|---:|---:|---:|---|")
    for name, (rss, peak), note in rows:
        rss_text = "n/a" if rss is None else f"{rss:.0f}"
        delta = "" if rss is None else f"{rss - warm:+.0f}"
        peak_text = "n/a" if peak is None else f"{peak:.0f}"
        print(f"| {name} | {rss_text} | {delta} | {peak_text} | {note} |")


if __name__ == "__main__":
    sys.exit(main())
