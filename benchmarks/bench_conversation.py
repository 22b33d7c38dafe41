"""Speed of ``model.conversation`` (diarization + emotion per segment + per-speaker adaptation) on
the 10 min TEST conversation of bench_diarization.py's speed row, with and without adaptation.

    python benchmarks/bench_conversation.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_diarization as b  # noqa: E402

from emovox.io.audio import SAMPLE_RATE  # noqa: E402


def main() -> None:
    import emovox
    from emovox.models.speaker import load_speaker_encoder

    model = emovox.load_model(features=False)
    encoder = load_speaker_encoder(threads=2)
    conv = b.make_conversation(np.random.default_rng(99), b.Corpus("ravdess"), "test", False, n_turns=160)
    x = conv["signal"][: 600 * SAMPLE_RATE]
    seconds = x.size / SAMPLE_RATE
    print(f"{seconds / 60:.0f} min, {conv['n_speakers']} speakers; onnxruntime on 2 threads (speaker encoder)")
    print("| adapt | wall RTF | CPU RTF | segments | speakers found | adapted speakers |\n|---|---|---|---|---|---|")
    for adapt in (False, True):
        wall, cpu = time.perf_counter(), time.process_time()
        talk = model.conversation((x, SAMPLE_RATE), adapt=adapt, encoder=encoder)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        adapted = sum(s.adapted is not None for s in talk.speakers)
        print(f"| {adapt} | {wall / seconds:.3f} | {cpu / seconds:.3f} | {len(talk.segments)} | "
              f"{len(talk.speakers)} | {adapted} |")


if __name__ == "__main__":
    main()
