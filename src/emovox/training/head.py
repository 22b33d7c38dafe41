"""The emotion head on top of a frozen backbone, and the whole exportable model.

``EmotionNet``: backbone inputs -> hidden states -> per-layer pooled statistics -> standardised ->
an ensemble of small MLPs (logits averaged) -> optionally divided by an input-dependent temperature.
It is exported as one graph (inputs -> calibrated logits); a global temperature, if the recipe uses
one instead, travels next to it in emovox.json.
"""

from __future__ import annotations

from ..errors import require

torch = require("torch", "train", "the emotion head")
nn = torch.nn


def pool_states(states, weights=None):
    """Tuple of L states (B, T, D) -> (B, L * 2 * D): each layer's (weighted) mean and std over frames.

    ``weights`` (B, T) >= 0: how much each frame counts (a padding mask, or soft speech weights).
    """
    x = torch.stack(states, dim=1).float()  # (B, L, T, D)
    if weights is None:
        mean = x.mean(dim=2)
        var = (x * x).mean(dim=2) - mean * mean
    else:
        w = (weights / weights.sum(dim=1, keepdim=True))[:, None, :, None]
        mean = (x * w).sum(dim=2)
        var = (x * x * w).sum(dim=2) - mean * mean
    std = torch.sqrt(torch.clamp(var, min=1e-6))
    return torch.cat([mean, std], dim=-1).flatten(1)


def frame_energy(x, frontend: str, frames: int):
    """Per encoder frame loudness in log10(power) / 4 units, from the model's own input.

    Log-mel input (B, 80, F): mean log-mel of each pair of mel frames (the encoder halves the rate).
    Waveform input (B, N): log mean square of ``frames`` equal chunks.
    """
    if frontend == "whisper-logmel":
        e = nn.functional.pad(x.mean(dim=1)[:, None], (0, 1), mode="replicate")[:, 0]
        return e[:, : 2 * frames].reshape(x.shape[0], -1, 2).mean(dim=-1)
    hop = x.shape[1] // frames
    chunks = x[:, : frames * hop].reshape(x.shape[0], frames, -1)
    return torch.log10((chunks * chunks).mean(dim=-1) + 1e-10) / 4


def speech_weights(energy, margin: float = 0.5, sharpness: float = 20.0):
    """Soft speech mask: ~1 for frames within ``margin`` (0.5 = 20 dB) of the clip's loudest, ~0 below."""
    top = energy.max(dim=1, keepdim=True).values
    return torch.sigmoid((energy - top + margin) * sharpness)


POOLINGS = ("mean_std", "speech", "speech_cmn", "speech_in")


def instance_norm(states, scale: bool):
    """Each layer's frames relative to the clip's own mean over frames (and, ``scale``, its spread):
    a per-utterance normalisation that needs no reference recordings."""
    out = []
    for s in states:
        s = s.float()
        mean = s.mean(dim=1, keepdim=True)
        s = s - mean
        if scale:
            s = s / torch.sqrt((s * s).mean(dim=1, keepdim=True) + 1e-5)
        out.append(s)
    return tuple(out)


def pool_clip(states, energy, pooling: str):
    """The head's input: mean/std over all frames, plus (pooling "speech*") over the loud frames.

    ``speech_cmn``: the states are first centred on the clip's own mean frame (the all-frame mean block
    is then zero and the loud-frame mean is a contrast); ``speech_in``: also scaled to unit spread.
    """
    if pooling in ("speech_cmn", "speech_in"):
        states = instance_norm(states, scale=pooling == "speech_in")
    pooled = pool_states(states)
    if pooling == "mean_std":
        return pooled
    return torch.cat([pooled, pool_states(states, speech_weights(energy))], dim=-1)


class MLP(nn.Module):
    """Standardised pooled features -> logits: dropout, one hidden GELU layer, dropout, linear
    (``hidden=0``: dropout and a linear layer only)."""

    def __init__(self, dim: int, classes: int, hidden: int = 256, dropout: float = 0.3, input_dropout: float = 0.1):
        super().__init__()
        if hidden <= 0:  # a linear (multinomial logistic) head
            self.net = nn.Sequential(nn.Dropout(input_dropout), nn.Linear(dim, classes))
            return
        self.net = nn.Sequential(
            nn.Dropout(input_dropout), nn.Linear(dim, hidden), nn.GELU(),
            nn.Dropout(dropout), nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.net(x)


class Head(nn.Module):
    """Pooled features -> (x - shift) @ projection (standardise + PCA) -> mean of the members' logits.

    Optional input-dependent calibration (``domain``): a linear classifier on the same projected
    features gives the probability that a clip resembles each training corpus, and the logits are
    divided by ``T(x) = exp(sum_k p_k(x) * log_t[k])`` -- a per-corpus temperature (fitted on held-out
    speakers of that corpus) mixed by how much the clip looks like that corpus. With one corpus,
    ``T`` is that corpus' temperature.
    """

    def __init__(self, shift, projection, members: list[nn.Module], domain: nn.Module | None = None,
                 log_t=None) -> None:
        super().__init__()
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float32))
        self.register_buffer("projection", torch.as_tensor(projection, dtype=torch.float32))
        self.members = nn.ModuleList(members)
        self.domain = domain
        self.register_buffer("log_t", None if log_t is None else torch.as_tensor(log_t, dtype=torch.float32))

    def forward(self, pooled):
        z = (pooled - self.shift) @ self.projection
        logits = torch.stack([m(z) for m in self.members]).mean(dim=0)
        domain = self.domain(z) if self.domain is not None else None
        return calibrated(logits, domain, self.log_t)

    def temperature(self, z):
        """(B, 1) divisor of the logits: 1 without calibration, else the domain-mixed temperature."""
        domain = self.domain(z) if self.domain is not None else None
        return 1.0 / calibrated(torch.ones_like(z[:, :1]), domain, self.log_t)

    def compact(self) -> nn.Module:
        """The same function with fewer weights: linear members folded into the projection.

        (x - shift) @ P @ W.T + b == (x - shift) @ (P @ W.T) + b, so the PCA/standardising matrix
        (features x P) becomes a features x (classes + corpora) matrix; MLP heads are returned unchanged.
        """
        linears = [m.net[-1] for m in self.members if len(m.net) == 2]
        if len(linears) != len(self.members):
            return self
        with torch.no_grad():
            weight = torch.stack([lin.weight for lin in linears]).mean(dim=0)
            bias = torch.stack([lin.bias for lin in linears]).mean(dim=0)
            domain = self.domain is not None and self.log_t is not None and self.log_t.numel() > 1
            if domain:
                weight = torch.cat([weight, self.domain.weight])
                bias = torch.cat([bias, self.domain.bias])
            classes = linears[0].out_features
            return LinearHead(self.shift.clone(), self.projection @ weight.T, bias, classes, self.log_t).eval()


class LinearHead(nn.Module):
    """A compacted linear head: y = (x - shift) @ projection + bias; the first ``classes`` columns are
    the logits, the rest (if any) the corpus classifier of the domain calibration (see ``Head``)."""

    def __init__(self, shift, projection, bias, classes: int, log_t=None) -> None:
        super().__init__()
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float32))
        self.register_buffer("projection", torch.as_tensor(projection, dtype=torch.float32))
        self.bias = nn.Parameter(torch.as_tensor(bias, dtype=torch.float32).clone())
        self.classes = classes
        self.register_buffer("log_t", None if log_t is None else torch.as_tensor(log_t, dtype=torch.float32))

    def forward(self, pooled):
        y = (pooled - self.shift) @ self.projection + self.bias
        logits = y[:, : self.classes]
        return calibrated(logits, y[:, self.classes:] if y.shape[1] > self.classes else None, self.log_t)


def calibrated(logits, domain_logits, log_t):
    """``logits`` divided by the calibration temperature: none (``log_t`` None), one temperature
    (one entry, or no corpus classifier), or ``exp(softmax(domain_logits) @ log_t)`` per clip."""
    if log_t is None:
        return logits
    if domain_logits is None or log_t.numel() == 1:
        return logits / torch.exp(log_t[0])
    p = torch.softmax(domain_logits, dim=-1)
    return logits / torch.exp(p @ log_t)[:, None]


class EmotionNet(nn.Module):
    """Backbone inputs (1, 80, T) mel or (1, samples) waveform -> logits (1, classes), and with
    ``pooled_output`` also the pooled features (1, F) that ``Recognizer.adapt`` centres."""

    def __init__(self, backbone: nn.Module, head: Head, frontend: str, pooling: str,
                 pooled_output: bool = False) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.frontend = frontend
        self.pooling = pooling
        self.pooled_output = pooled_output  # also return the pooled features (for an adapted head)

    def forward(self, x):
        states = self.backbone(x)
        energy = frame_energy(x, self.frontend, states[0].shape[1])
        pooled = pool_clip(states, energy, self.pooling)
        logits = self.head(pooled)
        return (logits, pooled) if self.pooled_output else logits
