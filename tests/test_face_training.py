"""Training the expression model end to end on a tiny FER-2013-shaped file (made here, no real faces):
both augmentations train, export an ONNX folder the public loader reads, and record their recipe."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def tiny_fer(tmp_path_factory):
    """70 Training and 14 PublicTest faces: a bright or dark blob in one of two places per label."""
    rng = np.random.default_rng(0)
    usage, labels, pngs = [], [], []
    for split, n in (("Training", 70), ("PublicTest", 14), ("PrivateTest", 14)):
        for i in range(n):
            label = i % 7
            img = rng.integers(0, 60, (48, 48)).astype(np.uint8)
            y, x = divmod(label, 3)
            img[8 + 12 * y: 20 + 12 * y, 8 + 12 * x: 20 + 12 * x] = 220
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="PNG")
            usage.append(split)
            labels.append(label)
            pngs.append(buf.getvalue())
    path = tmp_path_factory.mktemp("fer") / "fer2013.parquet"
    pq.write_table(pa.table({"usage": usage, "label": labels, "png": pngs}), path)
    return path


@pytest.mark.parametrize("augment", ["basic", "affine"])
def test_train_exports_a_model_the_loader_reads(tiny_fer, tmp_path, augment):
    from emovox.models.face import FaceClassifier
    from emovox.training.face import main

    out = tmp_path / "net"
    main(["train", "--data", str(tiny_fer), "--epochs", "1", "--width", "4", "--batch", "16",
          "--augment", augment, "--out", str(out)])
    meta = json.loads((out / "emovox-face.json").read_text())
    assert meta["recipe"]["augment"] == augment and meta["recipe"]["epochs_run"] == 1
    probs = FaceClassifier.load(out).classify_crops(np.full((3, 48, 48), 128, np.uint8))
    assert probs.shape == (3, 7) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_affine_augmentation_moves_faces_a_little_and_keeps_their_scale():
    """Per face a different small rotation / scale / shift / mirror; a flat grey face stays flat grey
    (up to the brightness jitter), and the output is the 44x44 crop the net trains on."""
    from emovox.training.face import CROP, MEAN, STD, _augment_affine

    gen = torch.Generator().manual_seed(0)
    faces = torch.zeros(16, 48, 48, dtype=torch.uint8)
    faces[:, 20:28, 10:38] = 255  # a bar: rotation and shifts move it
    out = _augment_affine(faces, gen)
    assert out.shape == (16, 1, CROP, CROP)
    pixels = out * STD + MEAN
    assert pixels.min() >= -1e-6 and pixels.max() <= 1 + 1e-6
    assert len({np.round(p.numpy(), 3).tobytes() for p in pixels}) == 16  # each face its own draw
    # the bar's area changes by no more than the scale (+-10 %) allows, give or take the interpolation
    area = (pixels > 0.5).float().sum(dim=(1, 2, 3))
    assert ((area > 8 * 28 * 0.75) & (area < 8 * 28 * 1.3)).all()
    flat = _augment_affine(torch.full((4, 48, 48), 128, dtype=torch.uint8), gen) * STD + MEAN
    assert torch.allclose(flat, flat.mean(dim=(2, 3), keepdim=True), atol=1e-5)
