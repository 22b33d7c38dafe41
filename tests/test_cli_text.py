"""`emovox text` through the real entry point (python -m emovox) in a child process."""

import json

from conftest import run_emovox


def test_text_table_shows_the_dominant_emotion_and_a_bar_per_emotion():
    out = run_emovox("text", "Stop lying to me, I hate you.")
    assert out.returncode == 0, out.stderr
    assert "Angry" in out.stdout and "confidence" in out.stdout
    for label in ("Neutral", "Happy", "Sad", "Fearful", "Disgust", "Surprised"):
        assert label in out.stdout
    assert "█" in out.stdout


def test_text_file_json_lines_one_object_per_line(tmp_path):
    lines = tmp_path / "lines.txt"
    lines.write_text("I'm so happy for you!\n\n   \nI miss her so much, I cry every night.\n", encoding="utf-8")
    out = run_emovox("text", "--file", str(lines), "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert [r["emotion"] for r in rows] == ["happy", "sad"]
    assert rows[0]["text"] == "I'm so happy for you!" and len(rows[0]["scores"]) == 7


def test_text_errors_are_one_line_without_traceback(tmp_path):
    out = run_emovox("text")
    assert out.returncode == 1 and out.stderr.startswith("emovox: error: no text given")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\u00e9\n".encode("latin-1"))
    out = run_emovox("text", "--file", str(bad))
    assert out.returncode == 1 and "not valid UTF-8" in out.stderr and "Traceback" not in out.stderr
    out = run_emovox("text", "--file", str(tmp_path / "missing.txt"))
    assert out.returncode == 1 and "cannot read" in out.stderr
    out = run_emovox("text", "fine words", "   ", "--json")
    assert out.returncode == 1 and "whitespace" in out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert "emotion" in rows[0] and "error" in rows[1]


def test_train_text_minilm_export_without_a_checkpoint_is_one_line(tmp_path):
    out = run_emovox("train-text", "--arch", "minilm", "--from-checkpoint", "--work", str(tmp_path / "none"),
                     "--out", str(tmp_path / "model"))
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert "no checkpoint to export" in out.stderr and "--from-checkpoint" in out.stderr
    assert not (tmp_path / "model").exists() and not (tmp_path / "none").exists()


def test_train_text_minilm_without_torch_names_the_extra(tmp_path):
    import subprocess
    import sys

    from conftest import subprocess_env

    code = ("import sys; sys.modules['torch'] = None; from emovox.cli import main;"
            f"sys.exit(main(['train-text', '--arch', 'minilm', '--out', {str(tmp_path / 'm')!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env())
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert 'pip install "emovox[train]"' in out.stderr and not (tmp_path / "m").exists()
