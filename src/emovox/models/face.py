"""Faces: an offline detector (OpenCV's bundled Haar cascade) and the expression model (ONNX).

``load_face_model().predict(image)`` -> ImageFaces: per face a box, scores over the canonical labels
and the top emotion. The detector needs the ``face`` extra (opencv-python-headless); the expression
model runs on onnxruntime (a core dependency). Nothing is downloaded: the cascade ships inside the
OpenCV wheel and the expression model inside emovox (``assets/emovox-face``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MissingExtraError, ModelError, require
from ..results.result import ModelInfo
from ..results.result_media import FacePrediction, ImageFaces

FACE_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "emovox-face"
CROP_SIZE = 48
MAX_FACES = 20
DETECT_SIDE = 320
"""Frames are shrunk so their longer side is at most this many pixels before detection."""
MIN_FACE_FRACTION = 0.1
"""Faces smaller than this fraction of the shorter image side are ignored (noise, far background)."""
CROP_MARGIN = 0.05


def _cv2():
    return require("cv2", "vision", "face detection")


class HaarDetector:
    """OpenCV's frontal-face Haar cascade (bundled with opencv-python-headless; BSD-3-Clause)."""

    name = "opencv-haar-frontalface-default"

    def __init__(self, scale_factor: float = 1.2, min_neighbors: int = 5) -> None:
        cv2 = _cv2()
        if not hasattr(cv2, "CascadeClassifier"):  # OpenCV 5 dropped the Haar cascades
            raise MissingExtraError("vision", f"face detection (OpenCV {cv2.__version__} has no Haar "
                                    "cascades; OpenCV 4 is needed)")
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelError(f"could not load the face detector from {path}")
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors

    def detect(self, grey: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Boxes (x, y, w, h) in the image's pixels, largest first, at most MAX_FACES."""
        cv2 = _cv2()
        h, w = grey.shape
        scale = min(1.0, DETECT_SIDE / max(h, w))
        small = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
            if scale < 1 else grey
        small = cv2.equalizeHist(small)
        side = max(24, int(min(small.shape) * MIN_FACE_FRACTION))
        found = self._cascade.detectMultiScale(
            small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(side, side)
        )
        boxes = [tuple(int(round(v / scale)) for v in box) for box in (found if len(found) else [])]
        boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
        return boxes[:MAX_FACES]


MAX_SHIFT = 2
"""Each net takes the central 44x44 of a 48x48 crop, so a crop moved by up to 2 pixels is a shifted
44x44 window of real pixels (what ``np.roll`` wraps around never reaches it)."""


def views(crops: np.ndarray, shifts: list | tuple = ()) -> np.ndarray:
    """The crops [N,48,48] and, for each (dy, dx) of ``shifts``, the crops moved by it: [V*N,48,48].

    >>> views(np.zeros((3, 48, 48), np.float32), [(0, 2), (2, 0)]).shape
    (9, 48, 48)
    """
    moved = [np.roll(crops, (int(dy), int(dx)), axis=(1, 2)) for dy, dx in shifts]
    return np.concatenate([crops, *moved]) if moved else crops


@dataclass
class FaceClassifier:
    """The expression model: grey 48x48 crops -> probabilities over ``labels`` (ONNX Runtime).

    Test-time augmentation travels with the weights (``emovox-face.json``): ``onnx`` names one net
    or several (their probabilities averaged), ``tta.shifts`` the pixel shifts averaged with the
    crop itself (each net's graph also averages a crop with its mirror image).
    """

    path: Path
    labels: tuple[str, ...]
    info: ModelInfo
    _sessions: list
    shifts: tuple[tuple[int, int], ...] = ()

    @classmethod
    def load(cls, folder: str | Path | None = None) -> FaceClassifier:
        folder = Path(folder or os.environ.get("EMOVOX_FACE_MODEL") or FACE_MODEL_DIR)
        meta_file = folder / "emovox-face.json"
        if not meta_file.is_file():
            raise ModelError(f"no face model in {folder} (emovox-face.json missing)")
        meta = json.loads(meta_file.read_text())
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        files = meta["onnx"] if isinstance(meta["onnx"], list) else [meta["onnx"]]
        try:
            sessions = [ort.InferenceSession(str(folder / f), opts, providers=["CPUExecutionProvider"])
                        for f in files]
        except Exception as exc:  # noqa: BLE001 - any runtime failure is a model error
            raise ModelError(f"could not load the face model {folder}: {exc}") from exc
        shifts = tuple((int(dy), int(dx)) for dy, dx in meta.get("tta", {}).get("shifts", []))
        if any(max(abs(dy), abs(dx)) > MAX_SHIFT for dy, dx in shifts):
            raise ModelError(f"{meta_file}: tta shifts must be within {MAX_SHIFT} pixels, got {list(shifts)}")
        labels = tuple(meta["labels"])
        info = ModelInfo(meta["name"], meta.get("version", ""), labels, "onnx", str(folder), sample_rate=0,
                         extra={"trained_on": meta.get("trained_on"), "nets": len(sessions),
                                "tta_shifts": len(shifts)})
        return cls(folder, labels, info, sessions, shifts)

    def classify_crops(self, crops: np.ndarray, batch: int = 256) -> np.ndarray:
        """uint8 or float grey crops [N,48,48] (0..255) -> probabilities [N, len(labels)], averaged
        over the nets and the shifted views."""
        x = np.asarray(crops, dtype=np.float32)
        if x.ndim != 3 or x.shape[1:] != (CROP_SIZE, CROP_SIZE):
            raise ValueError(f"crops must be [N,{CROP_SIZE},{CROP_SIZE}], got {x.shape}")
        if not len(x):
            return np.zeros((0, len(self.labels)), np.float32)
        stacked = views(x, self.shifts)  # the shifted views once, for every net
        return np.mean([_view_mean(s, stacked, len(x), batch) for s in self._sessions], axis=0)

    def net_probs(self, net: int, crops: np.ndarray, shifts=None, batch: int = 256) -> np.ndarray:
        """Net ``net``'s probabilities [N, labels] averaged over its views (``shifts``: the model's)."""
        crops = np.asarray(crops, np.float32)
        stacked = views(crops, self.shifts if shifts is None else shifts)
        return _view_mean(self._sessions[net], stacked, len(crops), batch)


def _view_mean(session, stacked: np.ndarray, n: int, batch: int) -> np.ndarray:
    """One net on ``views()`` output [V*N,48,48] -> its probabilities [N, labels] averaged over the V views."""
    out = np.concatenate([session.run(None, {"faces": stacked[i:i + batch, None]})[0]
                          for i in range(0, len(stacked), batch)])
    return out.reshape(len(stacked) // n, n, -1).mean(axis=0)


def grey(rgb: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def crop(grey_img: np.ndarray, box: tuple[int, int, int, int], margin: float = CROP_MARGIN) -> np.ndarray:
    """The box (grown by ``margin`` per side, clipped to the image) resized to 48x48 grey."""
    cv2 = _cv2()
    x, y, w, h = box
    H, W = grey_img.shape
    dx, dy = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(W, x + w + dx), min(H, y + h + dy)
    return cv2.resize(grey_img[y0:y1, x0:x1], (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)


class FaceModel:
    """Detector + expression model.

    >>> # emovox.load_face_model().predict("photo.jpg").faces[0].emotion
    """

    def __init__(self, classifier: FaceClassifier, detector: HaarDetector | None = None) -> None:
        self.classifier = classifier
        self.detector = detector or HaarDetector()

    @property
    def info(self) -> ModelInfo:
        return self.classifier.info

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    @property
    def path(self) -> Path:
        return self.classifier.path

    def classify_crops(self, crops: np.ndarray) -> np.ndarray:
        return self.classifier.classify_crops(crops)

    def predict(self, image, *, detect: bool = True) -> ImageFaces:
        """Faces in an image (path, bytes, file object or array). ``detect=False`` treats the
        whole image as one face crop (for images that are already crops)."""
        from ..io.vision import load_image, media_name

        rgb = load_image(image)
        name = media_name(image) if not isinstance(image, np.ndarray) else None
        faces = self.predict_frame(rgb, detect=detect)
        h, w = rgb.shape[:2]
        return ImageFaces(tuple(faces), w, h, self.info.id, name)

    def predict_frame(self, rgb: np.ndarray, *, t: float | None = None, detect: bool = True) -> list[FacePrediction]:
        g = grey(rgb)
        h, w = g.shape
        boxes = self.detector.detect(g) if detect else [(0, 0, w, h)]
        if not boxes:
            return []
        crops = np.stack([crop(g, b, margin=CROP_MARGIN if detect else 0.0) for b in boxes])
        probs = self.classify_crops(crops)
        out = []
        for box, p in zip(boxes, probs):
            k = int(np.argmax(p))
            scores = {label: float(v) for label, v in zip(self.labels, p)}
            out.append(FacePrediction(box, self.labels[k], float(p[k]), scores, t=t))
        return out


def load_face_model(folder: str | Path | None = None) -> FaceModel:
    """The shipped face model (or one in ``folder``) with the OpenCV detector.

    Raises MissingExtraError (``pip install "emovox[vision]"``) without OpenCV, ModelError without weights.
    """
    _cv2()
    return FaceModel(FaceClassifier.load(folder), HaarDetector())
