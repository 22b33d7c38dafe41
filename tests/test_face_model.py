"""The expression model folder: test-time shifts and several nets averaged, as its emovox-face.json says."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from emovox.errors import ModelError
from emovox.models.face import FACE_MODEL_DIR, FaceClassifier

pytest.importorskip("onnxruntime")


def folder_with(tmp_path, **changes):
    """A copy of the shipped model's first net with ``changes`` to its emovox-face.json."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    meta = json.loads((FACE_MODEL_DIR / "emovox-face.json").read_text())
    first = meta["onnx"] if isinstance(meta["onnx"], str) else meta["onnx"][0]
    shutil.copy(FACE_MODEL_DIR / first, tmp_path / "model.onnx")
    meta.update({"onnx": "model.onnx", "tta": {"shifts": []}, **changes})
    (tmp_path / "emovox-face.json").write_text(json.dumps(meta))
    return tmp_path


def crops(n: int = 6) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 48, 48)).astype(np.float32)


def test_shifted_views_are_averaged_as_the_folder_says(tmp_path):
    plain = FaceClassifier.load(folder_with(tmp_path / "plain"))
    shifts = [(-2, 0), (2, 0), (0, -2), (0, 2)]
    tta = FaceClassifier.load(folder_with(tmp_path / "tta", tta={"shifts": shifts}))
    x = crops()
    by_hand = np.mean([plain.classify_crops(x)] + [plain.classify_crops(np.roll(x, s, axis=(1, 2))) for s in shifts],
                      axis=0)
    got = tta.classify_crops(x)
    np.testing.assert_allclose(got, by_hand, atol=1e-5)
    assert not np.allclose(got, plain.classify_crops(x), atol=1e-4)  # the shifts change the answer
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_a_shift_past_the_crop_margin_is_refused(tmp_path):
    with pytest.raises(ModelError, match="within 2 pixels"):
        FaceClassifier.load(folder_with(tmp_path, tta={"shifts": [[3, 0]]}))


def test_several_nets_are_averaged(tmp_path):
    one = FaceClassifier.load(folder_with(tmp_path))
    shutil.copy(tmp_path / "model.onnx", tmp_path / "model-2.onnx")
    meta = json.loads((tmp_path / "emovox-face.json").read_text())
    meta["onnx"] = ["model.onnx", "model-2.onnx"]
    (tmp_path / "emovox-face.json").write_text(json.dumps(meta))
    two = FaceClassifier.load(tmp_path)
    assert two.info.extra["nets"] == 2
    np.testing.assert_allclose(two.classify_crops(crops()), one.classify_crops(crops()), atol=1e-6)
    (tmp_path / "model-2.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="could not load the face model"):
        FaceClassifier.load(tmp_path)
