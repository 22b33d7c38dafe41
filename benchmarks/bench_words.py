"""Speed of the words path: the text model per text, and transcription's real-time factor.

Text: median ms of ``emovox.load_text_model().predict`` on a 64-word text and per text through
``predict_many`` (batches of 64). Transcription (needs ``emovox[transcribe]`` and the RAVDESS corpus):
Whisper tiny.en via CTranslate2 int8 on ``--threads`` threads; real-time factor = seconds of compute
per second of audio, on single RAVDESS clips (each padded to Whisper's 30 s window, "full", or to
``window_seconds``: three times its length, at least 15 s, "adaptive", the default) and on one recording of
up to 30 s made of those clips with 1 s pauses; each row also gives the mean word error rate against
the sentences RAVDESS says were spoken (the clips span every speaker, emotion and intensity).

    python benchmarks/bench_words.py [--clips 8] [--threads 2] [--windows adaptive,full]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))
TARGETS = {"text_ms": 15.0, "rtf": 0.1}


def text_speed(repeats: int = 300) -> tuple[float, float]:
    import emovox

    tm = emovox.load_text_model()
    sentence = ("I honestly cannot believe you would do this to me after everything we went through "
                "together and I am so tired of pretending that it is fine when it is not ")
    text = " ".join((sentence * 3).split()[:64])
    tm.predict(text)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tm.predict(text)
        times.append((time.perf_counter() - t0) * 1000)
    batch = [text] * 640
    t0 = time.perf_counter()
    tm.predict_many(batch, batch_size=64)
    per_text = (time.perf_counter() - t0) * 1000 / len(batch)
    return statistics.median(times), per_text


def transcription_rtf(clips: int, threads: int, window: str) -> list[tuple[str, float, float, float]]:
    """(what, seconds of audio, RTF, mean WER against RAVDESS's known sentences) per row."""
    from emovox.analysis.transcribe import Transcriber, word_error_rate
    from emovox.corpora.location import corpora_root
    from emovox.io.audio import SAMPLE_RATE, load_audio

    root = corpora_root(SRC) / "ravdess"
    with open(root / "manifest.csv", newline="") as f:
        rows_csv = list(csv.DictReader(f))[::1440 // clips][:clips]  # every emotion, speaker and sentence
    signals = [load_audio(root / r["path"]) for r in rows_csv]
    sentences = [r["sentence"].split(": ", 1)[1] for r in rows_csv]
    tr = Transcriber(threads=threads, window=window)
    tr.transcribe(signals[0])  # warm-up
    rows = []
    t0 = time.perf_counter()
    texts = [tr.transcribe(s) for s in signals]
    audio_s = sum(len(s) for s in signals) / SAMPLE_RATE
    wer = statistics.mean(word_error_rate(ref, hyp) for ref, hyp in zip(sentences, texts))
    rows.append((f"{len(signals)} single clips (mean {audio_s / len(signals):.1f} s)",
                 audio_s, (time.perf_counter() - t0) / audio_s, wer))
    pause = np.zeros(SAMPLE_RATE, np.float32)
    pieces = [(s, ref) for s, ref in zip(signals, sentences)]
    long, refs = [], []
    for s, ref in pieces:  # whole clips with 1 s pauses, up to 30 s
        if sum(len(x) for x in long) + len(s) > 30 * SAMPLE_RATE:
            break
        long += [s, pause]
        refs.append(ref)
    long = np.concatenate(long)
    t0 = time.perf_counter()
    text = tr.transcribe(long)
    rows.append((f"one {len(long) / SAMPLE_RATE:.0f} s recording", len(long) / SAMPLE_RATE,
                 (time.perf_counter() - t0) / (len(long) / SAMPLE_RATE), word_error_rate(" ".join(refs), text)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--windows", default="adaptive,full",
                        help="transcription windows to compare (emovox.analysis.transcribe.WINDOWS)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    single, batched = text_speed()
    print("| measure | value | target |\n|---|--:|--:|")
    print(f"| text model, one 64-word text, median | {single:.2f} ms | <= {TARGETS['text_ms']:g} ms |")
    print(f"| text model, per text in batches of 64 | {batched:.2f} ms | - |")
    for window in args.windows.split(","):
        try:
            rows = transcription_rtf(args.clips, args.threads, window)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports what it could not measure
            print(f"| transcription | not measured: {exc} | |")
            return 0
        for name, _audio_s, rtf, wer in rows:
            print(f"| transcription RTF, {name}, {window} window, {args.threads} threads (WER {wer:.3f}) "
                  f"| {rtf:.3f} | <= {TARGETS['rtf']:g} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
