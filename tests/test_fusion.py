"""Late fusion of voice, words and face on hand-made score sets with known answers."""

from __future__ import annotations

import pytest

from emovox.analysis.fusion import fuse
from emovox.results.result import Prediction, TextPrediction


def voice(scores, silent=False):
    best = max(scores, key=scores.get) if scores else None
    return Prediction(emotion=None if silent else best, confidence=scores.get(best, 0.0) if best else 0.0,
                      scores={} if silent else scores, duration_s=2.0, model="voice@1", silent=silent)


def words(scores):
    best = max(scores, key=scores.get)
    return TextPrediction(best, scores[best], scores, model="text@1")


def test_equal_weights_without_adaptation_average_the_scores():
    f = fuse(audio=voice({"happy": 0.8, "sad": 0.2}), text=words({"happy": 0.4, "sad": 0.6}), adaptive=False)
    assert f.scores == pytest.approx({"happy": 0.6, "sad": 0.4})
    assert f.emotion == "happy" and f.confidence == pytest.approx(0.6)
    assert f.weights == pytest.approx({"audio": 0.5, "text": 0.5})
    assert f.disagreement == pytest.approx(0.4)


def test_adaptive_weights_favour_the_more_confident_modality():
    # voice 0.9 sure of neutral, text 0.6 sure of sad: weights 0.9/1.5 and 0.6/1.5
    f = fuse(audio=voice({"neutral": 0.9, "sad": 0.1}), text=words({"neutral": 0.4, "sad": 0.6}))
    assert f.weights == pytest.approx({"audio": 0.6, "text": 0.4})
    assert f.scores["neutral"] == pytest.approx(0.6 * 0.9 + 0.4 * 0.4)
    assert f.emotion == "neutral"


def test_user_weights_change_the_answer():
    a, t = voice({"happy": 0.7, "sad": 0.3}), words({"happy": 0.2, "sad": 0.8})
    assert fuse(audio=a, text=t, adaptive=False).emotion == "sad"  # 0.45 vs 0.55
    f = fuse(audio=a, text=t, adaptive=False, weights={"audio": 3, "text": 1})
    assert f.emotion == "happy" and f.scores["happy"] == pytest.approx(0.75 * 0.7 + 0.25 * 0.2)
    with pytest.raises(ValueError, match="non-negative"):
        fuse(audio=a, text=t, weights={"smell": 1})
    with pytest.raises(ValueError, match="all have weight 0"):
        fuse(audio=a, text=t, weights={"audio": 0, "text": 0})


def test_union_keeps_labels_one_model_lacks_and_intersection_drops_them():
    a = voice({"calm": 0.5, "neutral": 0.3, "sad": 0.2})
    t = words({"neutral": 0.5, "sad": 0.5})
    u = fuse(audio=a, text=t, adaptive=False)
    assert u.scores == pytest.approx({"calm": 0.25, "neutral": 0.4, "sad": 0.35})
    assert sum(u.scores.values()) == pytest.approx(1.0)
    i = fuse(audio=a, text=t, adaptive=False, labels="intersection")
    assert set(i.scores) == {"neutral", "sad"}
    assert i.scores["neutral"] == pytest.approx(0.5 * 0.6 + 0.5 * 0.5)


def test_strong_disagreement_is_flagged_and_both_results_are_kept():
    calm_voice = voice({"neutral": 0.85, "sad": 0.15})
    sad_words = words({"neutral": 0.1, "sad": 0.9})  # "I just lost my job", said calmly
    f = fuse(audio=calm_voice, text=sad_words)
    assert f.conflict is True and f.disagreement == pytest.approx(0.75)
    d = f.to_dict()
    assert d["per_modality"]["audio"]["emotion"] == "neutral"
    assert d["per_modality"]["text"]["emotion"] == "sad"
    mild = fuse(audio=voice({"neutral": 0.45, "sad": 0.35, "happy": 0.2}), text=sad_words)
    assert mild.conflict is False  # the voice is unsure: no strong disagreement
    agree = fuse(audio=voice({"neutral": 0.2, "sad": 0.8}), text=sad_words)
    assert agree.conflict is False and agree.emotion == "sad"


def test_one_modality_or_a_silent_voice():
    t = words({"happy": 0.7, "sad": 0.3})
    f = fuse(audio=voice({}, silent=True), text=t)
    assert f.modalities == ("text",) and f.scores == t.scores and f.weights == {"text": 1.0}
    only_voice = fuse(audio=voice({"angry": 0.9, "sad": 0.1}))
    assert only_voice.modalities == ("audio",) and only_voice.emotion == "angry"
    with pytest.raises(ValueError, match="nothing to fuse"):
        fuse(audio=voice({}, silent=True))


def test_three_modalities_voice_words_and_face():
    from emovox.results.result_media import FaceSummary

    face = FaceSummary("happy", 0.9, {"happy": 0.9, "sad": 0.1}, frames=12)
    a, t = voice({"happy": 0.6, "sad": 0.4}), words({"happy": 0.2, "sad": 0.8})
    f = fuse(audio=a, text=t, face=face, adaptive=False)
    assert f.modalities == ("audio", "text", "face")
    assert f.weights == pytest.approx({"audio": 1 / 3, "text": 1 / 3, "face": 1 / 3})
    assert f.scores["happy"] == pytest.approx((0.6 + 0.2 + 0.9) / 3) and f.emotion == "happy"
    assert f.disagreement == pytest.approx(0.7)  # words vs face, the pair furthest apart
    assert f.conflict  # voice says happy (0.6), words say sad (0.8): both sure enough
    assert f.to_dict()["per_modality"]["face"]["emotion"] == "happy"
    only_face = fuse(face=face, audio=voice({}, silent=True))  # a silent voice is left out
    assert only_face.modalities == ("face",) and only_face.scores == pytest.approx(face.scores)


def test_a_face_seen_once_and_a_short_utterance_count_less():
    from emovox.results.result_media import FaceSummary

    glimpse = FaceSummary("happy", 0.9, {"happy": 0.9, "sad": 0.1}, frames=1)  # 1 of 4 frames: x 0.25
    a = voice({"happy": 0.2, "sad": 0.8})  # 2 s: full weight
    f = fuse(audio=a, face=glimpse, adaptive=False)
    assert f.weights == pytest.approx({"audio": 0.8, "face": 0.2}) and f.emotion == "sad"
    assert fuse(audio=a, face=glimpse, adaptive=False, evidence=False).weights["face"] == pytest.approx(0.5)
    short = Prediction(emotion="sad", confidence=0.8, scores={"happy": 0.2, "sad": 0.8}, duration_s=0.75,
                       model="voice@1")  # half of FULL_VOICE_S: x 0.5
    words_ = words({"happy": 0.9, "sad": 0.1})
    assert fuse(audio=short, text=words_, adaptive=False).weights == pytest.approx({"audio": 1 / 3, "text": 2 / 3})
