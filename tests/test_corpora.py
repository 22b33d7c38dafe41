"""Corpus recipes on small fake trees that follow each corpus' documented naming, and the manifest."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import run_emovox
from emovox.corpora import PREPARERS, ManifestRow, read_folds, read_manifest, write_manifest
from emovox.corpora._common import SkippedFilesWarning
from emovox.errors import EmovoxError

SECONDS = 0.25


def make_tree(root: Path, names: list[str], seconds: float = SECONDS) -> Path:
    """Write a short 16 kHz tone at every relative path in `names` under `root`."""
    t = np.arange(int(seconds * 16_000)) / 16_000
    signal = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, signal, 16_000, subtype="PCM_16")
    return root


KIDS, DOGS = "01: Kids are talking by the door", "02: Dogs are sitting by the door"

# corpus -> (files to write, expected fields per file stem, number of files skipped with a warning)
CASES = {
    "ravdess": (
        [
            "Actor_01/03-01-05-02-01-01-01.wav",
            "Actor_02/03-01-01-01-02-02-02.wav",
            "Actor_01/03-02-05-02-01-01-01.wav",  # song: left out silently
            "Actor_01/01-01-05-02-01-01-01.wav",  # audio-video: left out silently
            "Actor_02/03-01-09-01-01-01-02.wav",  # emotion 09 undefined
            "Actor_02/03-01-05-03-01-01-02.wav",  # intensity 03 undefined
        ],
        {
            "03-01-05-02-01-01-01": dict(speaker="ravdess_01", gender="male", emotion="angry",
                                         intensity="strong", sentence=KIDS, original_label="05"),
            "03-01-01-01-02-02-02": dict(speaker="ravdess_02", gender="female", emotion="neutral",
                                         intensity="normal", sentence=DOGS, original_label="01"),
        },
        2,
    ),
    "crema-d": (
        [
            "AudioWAV/1001_DFA_ANG_XX.wav",
            "AudioWAV/1002_IEO_HAP_HI.wav",
            "AudioWAV/1001_ITS_FEA_LO.wav",
            "AudioWAV/1001_XYZ_ANG_XX.wav",  # sentence XYZ undefined
            "AudioWAV/1001_DFA_BOR_XX.wav",  # emotion BOR undefined
        ],
        {
            "1001_DFA_ANG_XX": dict(speaker="cremad_1001", gender="male", emotion="angry",
                                    intensity="", sentence="DFA: Don't forget a jacket"),
            "1002_IEO_HAP_HI": dict(speaker="cremad_1002", gender="female", emotion="happy",
                                    intensity="high", sentence="IEO: It's eleven o'clock"),
            "1001_ITS_FEA_LO": dict(speaker="cremad_1001", emotion="fearful", intensity="low",
                                    original_label="FEA"),
        },
        2,
    ),
    "tess": (
        [
            "OAF_angry/OAF_back_angry.wav",
            "YAF_pleasant_surprised/YAF_dog_ps.wav",
            "OAF_Fear/OAF_bath_fear.wav",
            "OAF_angry/OAF_back_bored.wav",  # emotion 'bored' undefined
            "ZAF_angry/ZAF_back_angry.wav",  # speaker ZAF undefined
        ],
        {
            "OAF_back_angry": dict(speaker="tess_OAF", gender="female", emotion="angry",
                                   sentence="Say the word back"),
            "YAF_dog_ps": dict(speaker="tess_YAF", emotion="surprised", original_label="ps"),
            "OAF_bath_fear": dict(emotion="fearful", sentence="Say the word bath"),
        },
        2,
    ),
    "emodb": (
        ["wav/03a01Fa.wav", "wav/16b10Lb.wav", "wav/08a02Xa.wav", "wav/99a01Wa.wav", "wav/03c01Wa.wav"],
        {
            "03a01Fa": dict(speaker="emodb_03", gender="male", emotion="happy", language="de",
                            original_label="F (Freude)",
                            sentence="a01: Der Lappen liegt auf dem Eisschrank."),
            "16b10Lb": dict(speaker="emodb_16", gender="female", emotion="boredom",
                            original_label="L (Langeweile)"),
        },
        3,
    ),
    "savee": (
        [
            "AudioData/DC/sa01.wav",
            "AudioData/JE/su02.wav",
            "AudioData/KL/a03.wav",
            "ALL/JK_h05.wav",  # flat re-packaging: speaker in the name
            "AudioData/DC/x01.wav",  # emotion x undefined
            "AudioData/ZZ/a01.wav",  # speaker ZZ undefined
        ],
        {
            "sa01": dict(speaker="savee_DC", gender="male", emotion="sad", original_label="sa"),
            "su02": dict(speaker="savee_JE", emotion="surprised", original_label="su"),
            "a03": dict(speaker="savee_KL", emotion="angry"),
            "JK_h05": dict(speaker="savee_JK", emotion="happy"),
        },
        2,
    ),
    "turev": (
        [
            "Sound Source/Sad/1157_hl_acik.wav",
            "Sound Source/Angry/1234_kz_beste.wav",
            "Sound Source/Calm/1358_sk_algi.wav",
            "Sound Source/Happy/7895_mt_algi.wav",
            "Sound Source/Angry/1234_hl_kedi.wav",  # folder disagrees with code
            "Sound Source/Sad/1234_zz_kedi.wav",  # code zz undefined
            "Model Output for Test Data/Sad/6783_hl_acik.wav",  # not the recordings: not read
        ],
        {
            "1157_hl_acik": dict(speaker="turev_1157", gender="", emotion="sad", language="tr",
                                 original_label="Sad (hl)", sentence="acik"),
            "1234_kz_beste": dict(speaker="turev_1234", emotion="angry"),
            "1358_sk_algi": dict(emotion="calm", original_label="Calm (sk)"),
            "7895_mt_algi": dict(emotion="happy"),
        },
        2,
    ),
    "ased": (
        [
            "01Neutral/n1-01-01-01-01.wav",
            "04Sad/S4-04-02-01-29.wav",  # upper-case letter, as one source file has
            "03Happy/h3-05-01-02-07.wav",
            "02Fearful/f2-02-01-02-07.wav",  # gender code contradicts speaker 07's other files
            "02Fearful/f2-03-01-01-07.wav",
            "05Angry/a5-03-02-01-07.wav",
            "05Angry/a5-08-01-01-01.wav",  # sentence 08 undefined
            "05Angry/x9-01-01-01-01.wav",  # emotion x9 undefined
        ],
        {
            "n1-01-01-01-01": dict(speaker="ased_01", gender="female", emotion="neutral", language="am",
                                   original_label="n (neutral)",
                                   sentence="01: common sentence (same text for all five emotions)"),
            "S4-04-02-01-29": dict(speaker="ased_29", emotion="sad", original_label="s (sad)"),
            "h3-05-01-02-07": dict(emotion="happy", gender="female",
                                   sentence="05: happy-specific sentence (text differs per emotion)"),
            "f2-02-01-02-07": dict(speaker="ased_07", gender="female", emotion="fearful"),
            "f2-03-01-01-07": dict(gender="female"),
            "a5-03-02-01-07": dict(emotion="angry", gender="female"),
        },
        2,
    ),
}


def prepare(corpus: str, root: Path, skipped: int) -> list[ManifestRow]:
    """Run a recipe and check it warned exactly once about `skipped` files (or not at all)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = PREPARERS[corpus](root)
    messages = [str(w.message) for w in caught if issubclass(w.category, SkippedFilesWarning)]
    assert len(messages) == (1 if skipped else 0), messages
    if skipped:
        assert f"skipped {skipped} item(s)" in messages[0]
    return rows


@pytest.mark.parametrize("corpus", list(CASES))
def test_recipe_parses_documented_names(corpus, tmp_path):
    files, expected, skipped = CASES[corpus]
    root = make_tree(tmp_path / corpus, files)
    if corpus == "crema-d":
        (root / "VideoDemographics.csv").write_text(
            "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
            "1002,21,Female,Caucasian,Not Hispanic\n"
        )
    rows = prepare(corpus, root, skipped)
    by_stem = {r.path.stem: r for r in rows}
    assert set(by_stem) == set(expected)
    for stem, fields in expected.items():
        row = by_stem[stem]
        assert {k: getattr(row, k) for k in fields} == fields, stem
        assert row.path.is_file() and row.path.is_relative_to(root)
        assert row.duration_s == pytest.approx(SECONDS, abs=1e-3)


def test_unreadable_audio_is_skipped_with_a_warning(tmp_path):
    make_tree(tmp_path, ["Actor_01/03-01-05-02-01-01-01.wav"])
    (tmp_path / "Actor_01" / "03-01-02-01-01-01-01.wav").write_bytes(b"")
    rows = prepare("ravdess", tmp_path, skipped=1)
    assert [r.emotion for r in rows] == ["angry"]


def test_crema_d_without_demographics_leaves_gender_empty(tmp_path):
    rows = prepare("cremad", make_tree(tmp_path, ["AudioWAV/1001_DFA_ANG_XX.wav"]), 0)
    assert [(r.speaker, r.gender) for r in rows] == [("cremad_1001", "")]


IEMOCAP_EVAL = """% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[10.0000 - 11.5000]\tSes01F_impro01_M000\texc\t[3.5000, 3.0000, 3.0000]
[12.0000 - 13.0000]\tSes01F_impro01_F001\txxx\t[2.0000, 2.0000, 2.0000]
[14.0000 - 15.0000]\tSes01F_impro01_M001\tfru\t[2.0000, 3.5000, 3.0000]
[16.0000 - 17.0000]\tSes01F_impro01_F002\tzzz\t[2.0000, 2.0000, 2.0000]
[18.0000 - 19.0000]\tSes01F_impro01_M002\tang\t[1.5000, 4.0000, 4.0000]
"""


def test_iemocap_reads_evaluations_merges_exc_and_drops_xxx(tmp_path):
    s1, s2 = tmp_path / "Session1", tmp_path / "Session2"
    make_tree(tmp_path, [
        f"Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_{t}.wav"
        for t in ("F000", "M000", "F001", "M001", "F002")  # M002 (ang) has no audio
    ] + ["Session2/sentences/wav/Ses02M_script01_1/Ses02M_script01_1_F003.wav"])
    evaluation = s1 / "dialog" / "EmoEvaluation"
    (evaluation / "Categorical").mkdir(parents=True)
    (evaluation / "Ses01F_impro01.txt").write_text(IEMOCAP_EVAL)
    (evaluation / "Categorical" / "Ses01F_impro01_e1_cat.txt").write_text("Ses01F_impro01_F000 :Anger;\n")
    (s1 / "dialog" / "transcriptions").mkdir()
    (s1 / "dialog" / "transcriptions" / "Ses01F_impro01.txt").write_text(
        "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\n"
    )
    (s2 / "dialog" / "EmoEvaluation").mkdir(parents=True)
    (s2 / "dialog" / "EmoEvaluation" / "Ses02M_script01_1.txt").write_text(
        "[1.0 - 2.0]\tSes02M_script01_1_F003\tsad\t[2.0, 2.0, 2.0]\n"
    )
    rows = prepare("iemocap", tmp_path, skipped=2)  # zzz, and ang without audio
    got = {r.path.stem: (r.speaker, r.gender, r.emotion, r.original_label, r.sentence) for r in rows}
    assert got == {
        "Ses01F_impro01_F000": ("iemocap_01F", "female", "neutral", "neu", "Excuse me."),
        "Ses01F_impro01_M000": ("iemocap_01M", "male", "happy", "exc", ""),
        "Ses01F_impro01_M001": ("iemocap_01M", "male", "frustrated", "fru", ""),
        "Ses02M_script01_1_F003": ("iemocap_02F", "female", "sad", "sad", ""),
    }


@pytest.mark.parametrize("corpus", sorted({f.__name__: c for c, f in PREPARERS.items()}.values()))
def test_empty_or_wrong_root_is_a_clear_error(corpus, tmp_path):
    with pytest.raises(EmovoxError, match=f"no .+ files found under {tmp_path}; expected "):
        PREPARERS[corpus](tmp_path)
    with pytest.raises(EmovoxError, match="is not a folder"):
        PREPARERS[corpus](tmp_path / "missing")


def test_only_unknown_names_is_an_error_that_counts_them(tmp_path):
    make_tree(tmp_path, ["Actor_01/hello.wav", "Actor_01/03-01-99-01-01-01-01.wav"])
    with pytest.warns(SkippedFilesWarning), pytest.raises(EmovoxError, match=r"2 file\(s\) did not match"):
        PREPARERS["ravdess"](tmp_path)


def test_cli_choices_are_the_preparers():
    from emovox.cli.prepare import CORPORA

    assert set(CORPORA) == set(PREPARERS)


# --- manifest ---------------------------------------------------------------------------------

def row(path: Path, **kw) -> ManifestRow:
    fields = dict(corpus="demo", speaker="demo_1", emotion="angry") | kw
    return ManifestRow(path=path, **fields)


def test_manifest_round_trip_with_relative_paths(tmp_path):
    inside = tmp_path / "data" / "audio" / "a.wav"
    outside = tmp_path / "elsewhere" / "b.wav"
    rows = [
        row(inside, gender="female", language="en", original_label="ANG", sentence="Hi, there",
            intensity="high", duration_s=1.23456),
        row(outside, emotion="hap"),
    ]
    out = write_manifest(rows, tmp_path / "data" / "manifest.csv")
    records = list(csv.DictReader(out.open()))
    assert [r["path"] for r in records] == ["audio/a.wav", str(outside)]
    assert records[0]["duration_s"] == "1.235" and records[1]["duration_s"] == ""
    back = read_manifest(out)
    assert back[0] == row(inside, gender="female", language="en", original_label="ANG",
                          sentence="Hi, there", intensity="high", duration_s=1.235)
    assert back[1].path == outside and back[1].emotion == "happy"


def test_read_manifest_resolves_against_its_own_folder_and_normalises(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "manifest.csv").write_text("path,speaker,emotion\naudio/x.flac,s1,Anger\n")
    [only] = read_manifest(folder / "manifest.csv")
    assert only.path == folder / "audio" / "x.flac"
    assert (only.emotion, only.corpus, only.duration_s) == ("angry", "", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "not found"),
        ("path,corpus,emotion\na.wav,c,neu\n", r"lacks required column\(s\) speaker"),
        ("", "lacks required column"),
        ("path,speaker,emotion\n", "no rows"),
        ("path,speaker,emotion\na.wav,,neu\n", "line 2: empty 'speaker'"),
        ("path,speaker,emotion,duration_s\na.wav,s,neu,long\n", "duration_s 'long' is not a number"),
    ],
)
def test_read_manifest_errors(tmp_path, text, message):
    path = tmp_path / "manifest.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(EmovoxError, match=message):
        read_manifest(path)


def test_read_folds_checks_its_input(tmp_path):
    path = tmp_path / "folds.csv"
    path.write_text("speaker,fold\nr_01,1\nr_02,2\n")
    assert read_folds(path) == {"r_01": 1, "r_02": 2}
    for text, message in [("speaker,fold\nr_01,one\n", "integer fold"), ("spk,f\n", "expected speaker,fold"),
                          ("speaker,fold\nr_01,1\nr_01,2\n", "listed twice")]:
        path.write_text(text)
        with pytest.raises(EmovoxError, match=message):
            read_folds(path)


# --- CLI --------------------------------------------------------------------------------------

def test_cli_prepare_writes_manifest_and_summary(tmp_path):
    files, _, _ = CASES["emodb"]
    root = make_tree(tmp_path / "emodb", files)
    out = tmp_path / "out" / "manifest.csv"
    result = run_emovox("prepare", "emodb", str(root), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "skipped 3 item(s)" in result.stderr
    assert "happy" in result.stdout and "boredom" in result.stdout and "total" in result.stdout
    assert sorted(r.speaker for r in read_manifest(out)) == ["emodb_03", "emodb_16"]


def test_cli_prepare_empty_root_is_one_line_error(tmp_path):
    result = run_emovox("prepare", "savee", str(tmp_path), "--out", str(tmp_path / "m.csv"))
    assert result.returncode == 1
    assert result.stderr.startswith("emovox: error: no SAVEE files found") and "Traceback" not in result.stderr
    assert not (tmp_path / "m.csv").exists()


# --- real corpora -----------------------------------------------------------------------------

@pytest.mark.slow
def test_read_folds_on_real_ravdess(corpora):
    folds = read_folds(corpora / "ravdess" / "folds.csv")
    speakers = {r.speaker for r in read_manifest(corpora / "ravdess" / "manifest.csv")}
    assert set(folds) == speakers and sorted(set(folds.values())) == [1, 2, 3, 4, 5, 6]
    assert all(list(folds.values()).count(k) == 4 for k in range(1, 7))


def _ravdess_layout(r: ManifestRow) -> str:
    return f"Actor_{r.path.stem[-2:]}/{r.path.name}"


def _turev_layout(r: ManifestRow) -> str:
    return f"Sound Source/{r.emotion.title()}/{r.path.name}"


def _ased_layout(r: ManifestRow) -> str:
    number = {"neutral": 1, "fearful": 2, "happy": 3, "sad": 4, "angry": 5}[r.emotion]
    return f"{number:02d}{r.emotion.title()}/{r.path.name}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("corpus", "folder", "layout"),
    [
        ("ravdess", "ravdess", _ravdess_layout),
        ("emodb", "emodb_2s", lambda r: f"wav/{r.path.name}"),
        ("turev", "turev_db", _turev_layout),
        ("ased", "ased", _ased_layout),
    ],
)
def test_recipes_reproduce_shared_manifests(corpora, tmp_path, corpus, folder, layout):
    """Symlink the real FLACs into the original download layout; the recipe must rebuild the labels."""
    shared = read_manifest(corpora / folder / "manifest.csv")
    for r in shared:
        link = tmp_path / layout(r)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(r.path)
    rows = prepare(corpus, tmp_path, 0)
    assert len(rows) == len(shared)
    columns = ("speaker", "emotion", "gender", "language", "original_label", "sentence",
               "intensity", "duration_s")
    expected = {r.path.name: tuple(getattr(r, c) for c in columns) for r in shared}
    got = {r.path.name: tuple(getattr(r, c) for c in columns) for r in rows}
    assert got == expected


def test_corpora_root_prefers_the_environment_then_the_nearest_shared_folder(tmp_path, monkeypatch):
    from emovox.corpora import corpora_root

    nested = tmp_path / "repo" / "benchmarks"
    nested.mkdir(parents=True)
    monkeypatch.delenv("EMOVOX_CORPORA", raising=False)
    assert corpora_root(nested) == tmp_path / "repo" / "shared" / "corpora"  # nothing found: ../shared
    (tmp_path / "shared" / "corpora").mkdir(parents=True)
    assert corpora_root(nested) == tmp_path / "shared" / "corpora"
    monkeypatch.setenv("EMOVOX_CORPORA", str(tmp_path / "elsewhere"))
    assert corpora_root(nested) == tmp_path / "elsewhere"
