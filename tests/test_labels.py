from emovox.labels import CORE_EMOTIONS, EMOTIONS, canonical, emotion_info


def test_model_and_corpus_codes_map_to_the_vocabulary():
    codes = {"ang": "angry", "hap": "happy", "neu": "neutral", "sad": "sad", "disgust": "disgust",
             "fear": "fearful", "surprise": "surprised", "Anger": "angry", "bored": "boredom",
             "pleasant_surprise": "surprised", "Neutral ": "neutral"}
    for code, name in codes.items():
        assert canonical(code) == name


def test_unknown_labels_keep_a_clean_name_and_get_metadata():
    assert canonical("Frustrated!") == "frustrated"
    info = emotion_info("frustrated")
    assert info.label == "Frustrated" and info.color.startswith("#")


def test_every_core_emotion_has_display_metadata_and_a_mood():
    assert set(CORE_EMOTIONS) <= set(EMOTIONS)
    moods = {name: EMOTIONS[name].music_mood for name in ("neutral", "calm", "happy")}
    assert moods == {"neutral": "chill", "calm": "relaxing", "happy": "upbeat"}
    for e in EMOTIONS.values():
        assert e.emoji and e.color.startswith("#") and e.music_mood
