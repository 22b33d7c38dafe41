"""``model.conversation`` (diarization + emotion per segment + per-speaker adaptation): per-turn
emotion on the 40 TEST conversations of bench_diarization.py, and speed on its 10 min conversation.

    python benchmarks/bench_conversation.py

Per-turn emotion: for each true turn, the duration-weighted mean scores of the conversation's
segments that overlap it (whatever their speaker), vs the model on the true turn's audio; unweighted
accuracy over the turns' emotions. The built-in model was trained on RAVDESS and EmoDB: in-sample,
a comparison of two segmentations, not a score.
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
    corpora = {name: b.Corpus(name) for name in b.CORPORA}
    convs = b.conversation_set(corpora, "test", False, 40, 1)  # bench_diarization.py's TEST set (seed 0 + 1)
    truth, on_true, on_segments = {True: [], False: []}, {True: [], False: []}, {True: [], False: []}
    adapted_speakers = {True: 0, False: 0}
    for c in convs:
        x = c["signal"]
        for adapt in (False, True):
            talk = model.conversation((x, SAMPLE_RATE), adapt=adapt, encoder=encoder)
            adapted_speakers[adapt] += sum(s.adapted is not None for s in talk.speakers)
            for a, z, _, emotion in c["turns"]:
                truth[adapt].append(emotion)
                if not adapt:
                    clip = x[int(a * SAMPLE_RATE): int(z * SAMPLE_RATE)]
                    on_true[adapt].append(model.predict((clip, SAMPLE_RATE)).emotion or "none")
                total: dict[str, float] = {}
                for s in talk.segments:
                    w = min(s.end, z) - max(s.start, a)
                    if w > 0 and s.emotion is not None:
                        for k, v in s.scores.items():
                            total[k] = total.get(k, 0.0) + w * v
                on_segments[adapt].append(max(total, key=total.get) if total else "none")
    ua_true = b.unweighted_accuracy(truth[False], on_true[False])
    print(f"TEST, {len(convs)} conversations, {len(truth[False])} turns: per-turn emotion UA")
    print("| segmentation | UA | adapted speakers |\n|---|---|---|")
    print(f"| true turns (model.predict) | {ua_true:.1%} | - |")
    for adapt in (False, True):
        ua = b.unweighted_accuracy(truth[adapt], on_segments[adapt])
        print(f"| conversation segments, adapt={adapt} | {ua:.1%} | {adapted_speakers[adapt]} |")
    print()
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
