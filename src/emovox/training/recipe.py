"""The training recipe: its settings (JSON), the speaker-held-out validation, and the head fit.

Fitting works on pooled backbone features (one vector per clip and augmentation copy):
standardise (-> optional PCA, a fixed linear map) -> a multinomial logistic regression (L-BFGS, L2),
or an ensemble of small MLPs (one per seed, early-stopped on held-out speakers). Multi-corpus
training masks the logits of labels a clip's corpus does not have; loss weights balance classes
within each corpus and corpora against each other. Validation is speaker cross-validation inside
the training set (``val_folds`` groups; every training speaker is held out once), which gives an
out-of-fold prediction for every training clip: its UA is the validation score, and temperatures
are fitted on it -- one per corpus, mixed per clip by a corpus classifier (``calibration="domain"``),
or one for all. The final head is fitted on every training speaker.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..errors import EmovoxError, require

torch = require("torch", "train", "training")


@dataclass(frozen=True)
class Recipe:
    """Every setting that decides the trained model; saved with it so ``train --config`` reproduces it."""

    backbone: str = "whisper-tiny.en"
    preprocess: str = ""  # "normalise": trim leading/trailing silence and fix the loudness before the encoder
    pooling: str = "speech"  # "mean_std": over all frames; "speech": also over the loud frames (head.POOLINGS)
    corpus_balance: str = "equal"  # corpora weigh the same ("equal") or by clip count ("size")
    class_balance: bool = True  # within each corpus every emotion weighs the same (False: every clip does)
    aug_copies: int = 2  # augmented copies per training clip (0: clean only)
    telephone_copies: int = 1  # telephone-channel copies per training clip (channel.random_telephone)
    crop_copies: int = 0  # short-stretch copies per training clip (features.random_crop: 0.6-1.5 s of speech)
    aug_seed: int = 0
    pca_dims: int = 0  # > 0: PCA to this many dimensions after standardising (0: none)
    hidden: int = 0  # 0: linear head (L-BFGS); > 0: MLP ensemble (AdamW, early stopping)
    dropout: float = 0.4
    input_dropout: float = 0.2
    epochs: int = 100  # L-BFGS iterations (linear head) or maximum epochs (MLP)
    patience: int = 8
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-3  # L2 penalty (linear) or AdamW decay (MLP)
    label_smoothing: float = 0.0
    seeds: int = 3  # MLP ensemble members, seeds seed, seed+1, ...
    val_fraction: float = 0.15  # share of each corpus' training speakers held out (when val_folds < 2)
    val_folds: int = 3  # >= 2: speaker cross-validation inside the training set (every speaker held out once)
    calibrate: bool = True
    # "global": one temperature; "domain": one per corpus, mixed per clip; "corpus": one temperature
    # fitted on out-of-corpus predictions (each training corpus predicted by a head fitted on the others)
    calibration: str = "domain"
    # > 0: divide the logits by this fixed temperature instead of fitting one (needs calibrate false), e.g.
    # the one `benchmarks/loco_temperature.py --nested` chose on the recipe's out-of-corpus predictions
    temperature: float = 0.0
    refit: bool = True  # after validation, fit again on all training speakers (same epochs)
    threads: int = 1
    adapt_head: bool = False  # also fit a head on per-corpus-centred features (Recognizer.adapt)
    # training labels merged before the fit, e.g. {"calm": "neutral", "boredom": "neutral"}; "" drops the clips
    relabel: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def copies(self) -> list[str]:
        """The feature copies every training clip contributes (see features.copy_names)."""
        from .features import copy_names

        return copy_names(self.aug_copies, self.telephone_copies, self.crop_copies)

    @classmethod
    def from_dict(cls, data: dict) -> Recipe:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise EmovoxError(f"unknown recipe setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        recipe = cls(**data)
        for name in ("aug_copies", "telephone_copies", "crop_copies"):
            if not isinstance(getattr(recipe, name), int) or getattr(recipe, name) < 0:
                raise EmovoxError(f"recipe {name} must be a whole number >= 0, got {getattr(recipe, name)!r}")
        if not isinstance(recipe.class_balance, bool):
            raise EmovoxError(f"recipe class_balance must be true or false, got {recipe.class_balance!r}")
        if not isinstance(recipe.adapt_head, bool):
            raise EmovoxError(f"recipe adapt_head must be true or false, got {recipe.adapt_head!r}")
        if not isinstance(recipe.relabel, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in recipe.relabel.items()):
            raise EmovoxError(f"recipe relabel must map label names to label names (or \"\"), got {recipe.relabel!r}")
        if recipe.adapt_head and recipe.hidden:
            raise EmovoxError("recipe adapt_head needs the linear head (hidden 0)")
        from .features import PREPROCESS
        from .head import POOLINGS

        if recipe.preprocess not in PREPROCESS:
            raise EmovoxError(f"recipe preprocess must be one of {', '.join(map(repr, PREPROCESS))}, "
                              f"got {recipe.preprocess!r}")
        if recipe.pooling not in POOLINGS:
            raise EmovoxError(f"recipe pooling must be one of {', '.join(POOLINGS)}, got {recipe.pooling!r}")
        if recipe.calibration not in ("global", "domain", "corpus"):
            raise EmovoxError(f"recipe calibration must be 'global', 'domain' or 'corpus', got {recipe.calibration!r}")
        if (isinstance(recipe.temperature, bool) or not isinstance(recipe.temperature, (int, float))
                or not recipe.temperature >= 0):
            raise EmovoxError(f"recipe temperature must be a number > 0 (or 0: none), got {recipe.temperature!r}")
        if recipe.temperature and recipe.calibrate:
            raise EmovoxError("recipe temperature is a fixed temperature: set calibrate to false to use it "
                              "(calibrate true fits one)")
        return recipe

    @classmethod
    def load(cls, path: str | Path) -> Recipe:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise EmovoxError(f"cannot read recipe {path}: {exc}") from exc
        return cls.from_dict(data.get("recipe", data))


def split_speakers(corpus: list[str], speaker: list[str], fraction: float, seed: int) -> set[str]:
    """Validation speakers: a seeded ``fraction`` (at least one) of each corpus' speakers with >= 2 speakers."""
    rng = np.random.default_rng(seed)
    by_corpus: dict[str, list[str]] = {}
    for c, s in sorted(set(zip(corpus, speaker))):
        by_corpus.setdefault(c, []).append(s)
    val: set[str] = set()
    for _, speakers in sorted(by_corpus.items()):
        if len(speakers) < 2 or fraction <= 0:
            continue
        n = max(1, int(round(fraction * len(speakers))))
        val.update(rng.choice(speakers, size=min(n, len(speakers) - 1), replace=False).tolist())
    return val


def speaker_groups(corpus: list[str], speaker: list[str], folds: int, seed: int) -> dict[str, int]:
    """Speaker -> validation group 0..folds-1: each corpus' speakers shuffled (seeded) and dealt round
    robin, so every group holds out speakers of every corpus that has at least two; a corpus with a
    single speaker gets group -1 (always trained on)."""
    rng = np.random.default_rng(seed)
    by_corpus: dict[str, list[str]] = {}
    for c, s in sorted(set(zip(corpus, speaker))):
        by_corpus.setdefault(c, []).append(s)
    groups: dict[str, int] = {}
    for _, speakers in sorted(by_corpus.items()):
        order = rng.permutation(len(speakers))
        for rank, i in enumerate(order):
            groups[speakers[i]] = rank % folds if len(speakers) >= 2 else -1
    return groups


def sample_weights(corpus: list[str], emotion: list[str], balance: str = "equal",
                   class_balance: bool = True) -> np.ndarray:
    """Within each corpus each emotion weighs the same (or, ``class_balance=False``, each clip);
    corpora weigh the same in total (``balance="equal"``) or in proportion to their clip counts
    (``"size"``). Mean 1."""
    pairs = Counter(zip(corpus, emotion)) if class_balance else Counter((c, "") for c in corpus)
    classes = Counter(c for c, _ in pairs)
    share = Counter(corpus) if balance == "size" else dict.fromkeys(classes, 1)
    w = np.array([share[c] / (pairs[(c, e if class_balance else "")] * classes[c]) for c, e in zip(corpus, emotion)])
    return w * len(w) / w.sum()


def label_masks(corpus: list[str], emotion: list[str], labels: list[str]) -> np.ndarray:
    """(N, C) booleans: which labels each clip's corpus has (the others are masked out of its loss)."""
    have: dict[str, set[str]] = {}
    for c, e in zip(corpus, emotion):
        have.setdefault(c, set()).add(e)
    table = {c: np.array([lab in s for lab in labels]) for c, s in have.items()}
    return np.stack([table[c] for c in corpus])


@dataclass
class FitData:
    """Pooled features of the training clips: X (copies, N, F) with copy 0 the clean clip."""

    X: np.ndarray
    y: np.ndarray  # label indices
    corpus: list[str]
    speaker: list[str]
    labels: list[str]


def _standardiser(X: np.ndarray, pca_dims: int, seed: int):
    """Training statistics -> (mean, projection) with z = (x - mean) @ projection."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0) + 1e-5
    Z = (X - mean) / scale
    if not pca_dims or pca_dims >= min(Z.shape):
        return mean, np.diag(1.0 / scale)
    decomposition = require("sklearn.decomposition", "train", "PCA")
    pca = decomposition.PCA(pca_dims, svd_solver="randomized", random_state=seed).fit(Z)
    proj = pca.components_.T
    # fold the mean of the standardised data into the shift: z = (x - mean') @ (diag(1/scale) @ proj)
    mean = mean + pca.mean_ * scale
    return mean, proj / scale[:, None]


def _masked(logits, mask):
    return logits.masked_fill(~mask, -1e4)


def _balanced_accuracy(logits: np.ndarray, y: np.ndarray, corpus: np.ndarray) -> float:
    """Mean over corpora of balanced accuracy (masked logits)."""
    pred = logits.argmax(axis=1)
    scores = []
    for c in np.unique(corpus):
        sel = corpus == c
        recalls = [np.mean(pred[sel & (y == k)] == k) for k in np.unique(y[sel])]
        scores.append(np.mean(recalls))
    return float(np.mean(scores))


@dataclass
class _Set:
    """Projected features and targets for one fit: Z (N, P), y, loss weights, label masks, corpus."""

    Z: np.ndarray
    y: np.ndarray
    w: np.ndarray
    m: np.ndarray
    corpus: np.ndarray


def masked_loss(logits, y, w, m, smoothing: float = 0.0):
    """Weighted cross-entropy over each clip's own labels (``m``), with label smoothing spread over
    those labels only (torch's built-in smoothing would put target mass on masked-out labels)."""
    logp = torch.log_softmax(_masked(logits, m), dim=-1)
    nll = -logp.gather(1, y[:, None])[:, 0]
    if smoothing:
        allowed = m.to(logp.dtype)
        uniform = -(logp * allowed).sum(dim=1) / allowed.sum(dim=1)
        nll = (1 - smoothing) * nll + smoothing * uniform
    return (nll * w).mean()


def _loss(recipe: Recipe):
    return lambda model, Z, y, w, m: masked_loss(model(Z), y, w, m, recipe.label_smoothing)


def train_linear(train: _Set, classes: int, recipe: Recipe, seed: int):
    """Multinomial logistic regression, full batch L-BFGS with an L2 penalty (convex: seed-free)."""
    from .head import MLP

    torch.manual_seed(seed)
    model = MLP(train.Z.shape[1], classes, hidden=0, input_dropout=0.0)
    linear = model.net[-1]
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    Z, y, w, m = (torch.as_tensor(a) for a in (train.Z, train.y, train.w, train.m))
    loss_fn = _loss(recipe)
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=recipe.epochs, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-6, tolerance_change=1e-9)

    def closure():
        opt.zero_grad()
        loss = loss_fn(model, Z, y, w, m) + recipe.weight_decay * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return model.eval(), recipe.epochs


def train_mlp(train: _Set, val: _Set | None, classes: int, recipe: Recipe, seed: int, epochs: int | None = None):
    """One MLP, seeded, AdamW; early-stopped on the validation UA (or run for ``epochs``)."""
    from .head import MLP

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    Z, y, w, m = (torch.as_tensor(a) for a in (train.Z, train.y, train.w, train.m))
    model = MLP(Z.shape[1], classes, recipe.hidden, recipe.dropout, recipe.input_dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    loss_fn = _loss(recipe)
    best, best_state, best_epoch, waited = -1.0, None, epochs or recipe.epochs, 0
    for epoch in range(epochs or recipe.epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(recipe.batch_size):
            loss = loss_fn(model, Z[idx], y[idx], w[idx], m[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if val is None or epochs:
            continue
        score = _balanced_accuracy(member_logits(model, val.Z, val.m), val.y, val.corpus)
        if score > best:
            best, best_epoch, waited = score, epoch + 1, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= recipe.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval(), best_epoch


@torch.no_grad()
def member_logits(model, Z: np.ndarray, masks: np.ndarray) -> np.ndarray:
    model.eval()
    return _masked(model(torch.as_tensor(Z)), torch.as_tensor(masks)).numpy()


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the validation NLL (a fine log grid from 0.05 to 50)."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(50.0), 401))
    z = logits - logits.max(axis=1, keepdims=True)
    nll = [
        float(np.mean(np.log(np.exp(z / t).sum(axis=1)) - z[np.arange(len(y)), y] / t)) for t in grid
    ]
    return float(grid[int(np.argmin(nll))])


@dataclass
class FitResult:
    """The fitted head, its temperature, and what validation said about it."""

    head: torch.nn.Module
    temperature: float
    val_speakers: list[str]
    val: dict


def _fit(data: FitData, rows: np.ndarray, recipe: Recipe, seed: int, val_rows=None, epochs=None):
    """Standardise/PCA on every copy of ``rows`` (the distribution the head trains on), then train."""
    from .head import Head

    pooled = data.X[:, rows].reshape(-1, data.X.shape[-1])
    shift, proj = (a.astype(np.float32) for a in _standardiser(pooled, recipe.pca_dims, seed))
    corpus = np.array(data.corpus)
    masks = label_masks(data.corpus, [data.labels[i] for i in data.y], data.labels)
    weights = sample_weights(list(corpus[rows]), [data.labels[i] for i in data.y[rows]],
                             recipe.corpus_balance, recipe.class_balance).astype(np.float32)
    copies = data.X.shape[0]
    train = _Set(
        np.concatenate([(data.X[k, rows] - shift) @ proj for k in range(copies)]).astype(np.float32),
        np.tile(data.y[rows], copies).astype(np.int64), np.tile(weights, copies),
        np.tile(masks[rows], (copies, 1)), np.tile(corpus[rows], copies),
    )
    val = None
    if val_rows is not None and len(val_rows):
        val = _Set(((data.X[0, val_rows] - shift) @ proj).astype(np.float32), data.y[val_rows], None,
                   masks[val_rows], corpus[val_rows])
    members, spans = [], []
    for k in range(1 if recipe.hidden <= 0 else recipe.seeds):
        if recipe.hidden <= 0:
            member, span = train_linear(train, len(data.labels), recipe, seed + k)
        else:
            member, span = train_mlp(train, val, len(data.labels), recipe, seed + k, epochs and epochs[k])
        members.append(member)
        spans.append(span)
    return Head(shift, proj, members).eval(), spans, val


def fit_head(data: FitData, recipe: Recipe, seed: int = 0) -> FitResult:
    """Validate on held-out training speakers, calibrate on them, then fit on every training speaker.

    ``recipe.val_folds >= 2``: speaker cross-validation inside the training set -- each group of
    speakers is predicted by a head fitted without it, so every training clip gets an out-of-fold
    prediction (validation UA, temperatures, MLP epochs). Otherwise one ``val_fraction`` split.
    ``refit``: the final head is fitted on all training speakers with the same settings/epochs.
    Calibration ``"domain"``: one temperature per corpus on its out-of-fold logits, mixed per clip by
    a corpus classifier (see ``head.Head``); ``"global"``: one temperature for all.
    """
    torch.set_num_threads(recipe.threads)
    speakers = np.array(data.speaker)
    corpora = sorted(set(data.corpus))
    by_corpus = recipe.calibration == "corpus" and len(corpora) >= 2
    if by_corpus:  # each training corpus predicted by a head fitted on the others
        held = [np.flatnonzero(np.array(data.corpus) == c) for c in corpora]
    elif recipe.val_folds >= 2:
        groups = speaker_groups(data.corpus, data.speaker, recipe.val_folds, seed)
        group = np.array([groups[s] for s in data.speaker])
        held = [np.flatnonzero(group == g) for g in range(recipe.val_folds) if (group == g).any()]
    else:
        val_speakers = split_speakers(data.corpus, data.speaker, recipe.val_fraction, seed)
        held = [np.flatnonzero(np.isin(speakers, sorted(val_speakers)))] if val_speakers else []
    masks = label_masks(data.corpus, [data.labels[i] for i in data.y], data.labels)
    oof_rows, oof_logits, fold_spans = [], [], []
    for rows in held:
        train_rows = np.setdiff1d(np.arange(len(data.y)), rows)
        known = np.isin(np.arange(len(data.labels)), data.y[train_rows])
        rows = rows[known[data.y[rows]]]  # a held-out corpus' labels the others lack cannot be scored
        head, spans, _ = _fit(data, train_rows, recipe, seed, rows)
        oof_rows.append(rows)
        oof_logits.append(member_logits(head, data.X[0, rows], masks[rows] & known))
        fold_spans.append(spans)
    report: dict = {}
    temperatures: dict[str, float] = {}
    temperature = 1.0
    if oof_rows:
        rows = np.concatenate(oof_rows)
        logits = np.concatenate(oof_logits)
        corpus = np.array(data.corpus)[rows]
        y = data.y[rows]
        spans = [int(np.median([s[k] for s in fold_spans])) for k in range(len(fold_spans[0]))]
        report = {"ua": _balanced_accuracy(logits, y, corpus), "clips": int(len(rows)), "epochs": spans,
                  "per_corpus": {c: _balanced_accuracy(logits[corpus == c], y[corpus == c], corpus[corpus == c])
                                 for c in sorted(set(corpus))},
                  "scheme": ("leave-one-corpus-out inside the training set" if by_corpus
                             else f"{len(held)}-group speaker cross-validation" if recipe.val_folds >= 2
                             else f"{recipe.val_fraction:.0%} of each corpus' speakers held out")}
        if recipe.calibrate:
            temperature = fit_temperature(logits, y)
            temperatures = {c: fit_temperature(logits[corpus == c], y[corpus == c]) for c in sorted(set(corpus))}
            report["temperature"] = temperature
            report["temperatures"] = temperatures
        if recipe.refit or recipe.val_folds >= 2 or by_corpus:
            head, _, _ = _fit(data, np.arange(len(data.y)), recipe, seed, epochs=spans)
    else:
        head, _, _ = _fit(data, np.arange(len(data.y)), recipe, seed)
    if temperatures and recipe.calibration == "domain":
        _attach_domain(head, data, recipe, temperatures)
        temperature = 1.0  # the head divides by its own input-dependent temperature
    if recipe.temperature:
        temperature = float(recipe.temperature)
    held_speakers = sorted({data.speaker[i] for rows in oof_rows for i in rows})
    return FitResult(head, temperature, held_speakers, report)


def _attach_domain(head, data: FitData, recipe: Recipe, temperatures: dict[str, float]) -> None:
    """Give ``head`` per-corpus temperatures and (several corpora) a corpus classifier on its features."""
    names = sorted(temperatures)
    head.log_t = torch.tensor([np.log(temperatures[c]) for c in names], dtype=torch.float32)
    corpus = np.array(data.corpus)
    known = np.isin(corpus, names)
    if len(names) < 2:
        return
    z = ((torch.as_tensor(data.X[0][known]) - head.shift) @ head.projection).numpy()
    target = np.array([names.index(c) for c in corpus[known]])
    weights = sample_weights(list(corpus[known]), list(corpus[known]), "equal").astype(np.float32)
    train = _Set(z.astype(np.float32), target.astype(np.int64), weights,
                 np.ones((len(target), len(names)), bool), corpus[known])
    model, _ = train_linear(train, len(names), replace(recipe, label_smoothing=0.0), seed=0)
    head.domain = model.net[-1]
