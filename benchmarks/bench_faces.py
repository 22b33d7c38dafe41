"""Faces on the real audio-visual clips (../shared/av) and the end-to-end speed of a 10 s 720p video.

    python benchmarks/bench_faces.py [--speed]

Prints, per clip: the acted emotion, the crowd's separate votes (voice / face / audio-visual, CREMA-D),
what emovox's voice and face models say and their fused answer, and the fraction of sampled frames
where a face was found.
``--speed`` times ``emovox.analyze_media`` on a 10 s 1280x720 video (the RAVDESS clip looped) at 4
frames/s, voice included, after one warm-up run.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import emovox  # noqa: E402
from emovox.analysis.media import analyze_media  # noqa: E402
from emovox.corpora.location import corpora_root  # noqa: E402
from emovox.io.vision import load_video  # noqa: E402
from emovox.models.face import grey  # noqa: E402


def clips(root: Path) -> list[tuple[Path, dict]]:
    out = []
    for manifest in sorted(root.glob("*/manifest.csv")):
        for row in csv.DictReader(manifest.open()):
            if row["modality"] == "audiovisual":
                out.append((manifest.parent / row["path"], row))
    return out


def looped_720p(path: Path, seconds: float = 10.0) -> bytes:
    """The clip's frames repeated to ``seconds`` at its own rate, re-encoded (mpeg4), with its sound looped."""
    import av
    import numpy as np

    video = load_video(path, fps=30.0)
    frames = [f.rgb for f in video.frames()]
    audio = video.audio
    n = int(seconds * 30)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        vs = out.add_stream("mpeg4", rate=30)
        vs.width, vs.height, vs.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        vs.bit_rate = 2_000_000
        as_ = out.add_stream("aac", rate=16000)
        as_.layout = "mono"
        for i in range(n):
            fr = av.VideoFrame.from_ndarray(frames[i % len(frames)], format="rgb24")
            fr.pts = i
            for p in vs.encode(fr):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        sound = np.tile(audio, int(np.ceil(seconds * 16000 / audio.size)))[: int(seconds * 16000)]
        step = as_.codec_context.frame_size or 1024
        for i in range(0, sound.size, step):
            af = av.AudioFrame.from_ndarray(sound[None, i:i + step], format="flt", layout="mono")
            af.sample_rate, af.pts = 16000, i
            for p in as_.encode(af):
                out.mux(p)
        for p in as_.encode(None):
            out.mux(p)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", action="store_true", help="also time a 10 s 720p video end to end")
    args = ap.parse_args()
    root = corpora_root().parent / "av"
    face_model, voice_model = emovox.load_face_model(), emovox.load_model()
    print(f"face model {face_model.info.id}, voice model {voice_model.info.id}, clips in {root}")
    print("| clip | acted | votes voice / face / both | emovox voice | emovox face | fused | faces | frames with a face |")
    print("|---|---|---|---|---|---|--:|--:|")
    found = total = 0
    for path, row in clips(root):
        p = analyze_media(path, face_model=face_model, voice_model=voice_model)
        hit = sum(len(face_model.detector.detect(grey(f.rgb))) >= 1 for f in load_video(path, audio=False).frames())
        found, total = found + hit, total + p.frames_analyzed
        votes = " / ".join(row[k] or "-" for k in ("rated_voice", "rated_face", "rated_audiovisual"))
        voice = f"{p.voice.emotion} {p.voice.confidence:.2f}" if p.has_speech else "-"
        face = f"{p.face.emotion} {p.face.confidence:.2f}" if p.face else "-"
        fused = f"{p.fused.emotion} {p.fused.confidence:.2f}" if p.fused else "-"
        print(f"| {path.parent.name}/{path.name} | {row['emotion']} | {votes} | {voice} | {face} | {fused} | "
              f"{p.faces_detected} | {hit}/{p.frames_analyzed} |")
    print(f"\nframes with the one face found: {found}/{total} = {found / total:.1%}")
    if args.speed:
        data = looped_720p(root / "ravdess_sample" / "video_mp4" / "01-01-01-01-01-01-01.mp4")
        analyze_media(data, face_model=face_model, voice_model=voice_model)  # warm-up
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            p = analyze_media(data, face_model=face_model, voice_model=voice_model)
            runs.append(time.perf_counter() - t)
        print(f"10 s 1280x720 video at 4 frames/s ({p.frames_analyzed} frames, {p.faces_detected} face track(s), "
              f"voice {p.voice.emotion}): best {min(runs):.2f} s, median {sorted(runs)[1]:.2f} s of 3 runs")


if __name__ == "__main__":
    main()
