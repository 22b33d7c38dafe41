"""A video's timeline (issue 18): voice, face and fused lanes per span, in Python, the CLI and a PNG."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_emovox
from emovox.results.result import ModelInfo
from emovox.results.result_media import FacePrediction
from media_helpers import av_clips, moving_frames, video_bytes  # noqa: F401
from timeline_helpers import layout, pitch_model

pytest.importorskip("av")
FACE_UNTIL = 4.0
PARTS = [("high", 3.0), ("silence", 2.0), ("low", 3.0)]


class FirstSecondsFaces:
    """Test double for the face model: one face in every frame before FACE_UNTIL s, none after, with
    scores that change from frame to frame (so pooling over the wrong frames shows)."""

    labels = ("happy", "sad", "neutral")
    info = ModelInfo("face-test-double", "1", labels, "test", "tests/test_media_timeline.py")

    @staticmethod
    def scores(t: float) -> dict[str, float]:
        happy = 0.1 + 0.8 * ((t * 0.37) % 1.0)
        return {"happy": happy, "sad": (1 - happy) * 0.25, "neutral": (1 - happy) * 0.75}

    def predict_frame(self, rgb, *, t=None, detect=True):
        if t is None or t >= FACE_UNTIL:
            return []
        s = self.scores(t)
        best = max(s, key=s.get)
        return [FacePrediction((40, 30, 50, 50), best, s[best], s, t=t)]


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    signal, _ = layout(PARTS)
    path = tmp_path_factory.mktemp("video") / "talk.mp4"
    path.write_bytes(video_bytes(moving_frames(8.0, fps=25), fps=25, audio=signal))
    return path


@pytest.fixture(scope="module")
def timeline(talk):
    from emovox.analysis.media_timeline import build_media_timeline

    return build_media_timeline(talk, face_model=FirstSecondsFaces(), voice_model=pitch_model())


def _between(fused, voice, face, tol: float = 1e-9) -> None:
    for k, v in fused.items():
        lo, hi = min(voice.get(k, 0.0), face.get(k, 0.0)), max(voice.get(k, 0.0), face.get(k, 0.0))
        assert lo - tol <= v <= hi + tol, (k, v, voice, face)


def test_spans_cover_the_video_and_pool_the_frames_inside_each(timeline):
    spans = timeline.spans
    assert spans[0].start == 0.0 and spans[-1].end == pytest.approx(8.0, abs=0.1)
    assert all(a.end == b.start for a, b in zip(spans, spans[1:]))
    times = [o.t for tr in timeline.tracks for o in tr.observations]
    assert len(times) == 16 and max(times) < FACE_UNTIL  # 4 frames a second, faces for 4 s
    for s in spans:
        inside = [t for t in times if s.start <= t < s.end]
        if not inside:
            assert s.face is None
            continue
        assert s.face.frames == len(inside)
        expect = np.mean([FirstSecondsFaces.scores(t)["happy"] for t in inside])
        assert s.face.scores["happy"] == pytest.approx(expect)


def test_fused_is_voice_and_face_weighted_or_whichever_is_there(timeline):
    spans = timeline.spans
    both = [s for s in spans if s.voice is not None and s.face is not None]
    face_only = [s for s in spans if s.voice is None and s.face is not None]
    voice_only = [s for s in spans if s.voice is not None and s.face is None]
    assert both and face_only and voice_only
    assert both[0].voice.emotion == "happy" and voice_only[-1].voice.emotion == "sad"  # high, then low voice
    for s in both:
        assert set(s.fused.modalities) == {"audio", "face"} and all(0 < w < 1 for w in s.fused.weights.values())
        _between(s.fused.scores, s.voice.scores, s.face.scores)
    for s in voice_only:
        assert s.fused.scores == pytest.approx(s.voice.scores) and s.fused.emotion == s.voice.emotion
    for s in face_only:
        assert s.fused.scores == pytest.approx(s.face.scores)
    assert spans[-1].face is None and spans[-1].start >= FACE_UNTIL


def test_json_and_csv_shape(timeline):
    d = json.loads(json.dumps(timeline.to_dict()))
    assert d["kind"] == "video" and d["faces_detected"] == 1 and d["has_audio"] is True
    assert set(d["labels"]) == {"happy", "sad", "neutral"} and len(d["spans"]) == len(timeline.spans)
    for span in d["spans"]:
        assert set(span) == {"start", "end", "speech", "voice", "face", "fused"}
        assert span["speech"] == (span["voice"] is not None)
        if span["face"] is not None:
            assert span["face"]["frames"] >= 1
        assert abs(sum(span["fused"]["scores"].values()) - 1) < 1e-3
    rows = timeline.to_csv().splitlines()
    assert rows[0].startswith("start,end,speech,voice,voice_confidence,face,face_confidence,face_frames,fused")
    assert len(rows) == 1 + len(timeline.spans)


def test_plot_has_three_lanes(timeline, tmp_path):
    out = tmp_path / "talk.png"
    fig = timeline.plot(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_ylabel() for ax in fig.axes] == ["voice", "face", "fused"]
    assert all(ax.get_xlim()[1] == pytest.approx(timeline.duration_s) for ax in fig.axes)


def test_cli_video_timeline_has_voice_face_and_fused(talk, tmp_path):
    # the real face model finds no face in the drawn frames: face None and fused == voice everywhere
    png = tmp_path / "talk.png"
    r = run_emovox("analyze", str(talk), "--timeline", "--json", "--plot", str(png))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["faces_detected"] == 0 and d["spans"][-1]["end"] == pytest.approx(d["duration_s"], abs=1e-3)
    speech = [s for s in d["spans"] if s["speech"]]
    assert speech and all(s["face"] is None and s["fused"]["scores"] == pytest.approx(s["voice"]["scores"], abs=1e-3)
                          for s in speech)
    assert all(s["fused"] is None for s in d["spans"] if not s["speech"])
    assert png.read_bytes()[:4] == b"\x89PNG"
    table = run_emovox("analyze", str(talk), "--timeline")
    assert table.returncode == 0 and "fused" in table.stdout and "no face" in table.stdout
    vtt = run_emovox("analyze", str(talk), "--timeline", "--vtt")
    assert vtt.returncode == 1 and vtt.stderr.count("\n") == 1 and "--vtt" in vtt.stderr


@pytest.mark.corpus
def test_real_clip_lanes(av_clips, tmp_path):  # noqa: F811
    clip = next(c for c in av_clips if "ravdess" in str(c))
    png = tmp_path / "clip.png"
    r = run_emovox("analyze", str(clip), "--timeline", "--json", "--plot", str(png))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["faces_detected"] == 1 and d["spans"][0]["start"] == 0
    assert d["spans"][-1]["end"] == pytest.approx(d["duration_s"], abs=1e-3)
    assert all(a["end"] == b["start"] for a, b in zip(d["spans"], d["spans"][1:]))
    both = [s for s in d["spans"] if s["voice"] and s["face"]]
    assert both and sum(s["face"]["frames"] for s in d["spans"] if s["face"]) == d["frames_analyzed"]
    for s in both:
        _between(s["fused"]["scores"], s["voice"]["scores"], s["face"]["scores"], tol=1e-4)
    assert png.read_bytes()[:4] == b"\x89PNG"
    csv_out = run_emovox("analyze", str(clip), "--timeline", "--csv")
    assert csv_out.returncode == 0 and len(csv_out.stdout.splitlines()) == 1 + len(d["spans"])


def test_video_without_audio_is_one_face_span(tmp_path):
    from emovox.analysis.media_timeline import build_media_timeline

    mt = build_media_timeline(video_bytes(moving_frames(2.0, fps=25), fps=25), face_model=FirstSecondsFaces(),
                              voice_model=pitch_model())
    assert mt.voice is None and len(mt.spans) == 1
    (s,) = mt.spans
    assert s.start == 0 and s.end == pytest.approx(2.0, abs=0.1) and s.voice is None and not s.speech
    assert s.face.frames == mt.frames_analyzed == 8 and s.fused.scores == pytest.approx(s.face.scores)
    assert mt.to_dict()["has_audio"] is False
    assert [ax.get_ylabel() for ax in mt.plot(tmp_path / "mute.png").axes] == ["voice", "face", "fused"]
