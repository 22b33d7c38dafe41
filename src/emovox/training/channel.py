"""Transmission channels applied to a clip: telephone (band-pass, 8 kHz, G.711) and codec round trips.

Training uses :func:`random_telephone` for its telephone copies (every setting drawn per clip);
``benchmarks/robustness.py`` uses :func:`telephone` with fixed settings and :func:`codec_roundtrip`
with a codec the training never sees (AMR-NB, the GSM/3G speech codec). Codecs run through PyAV
(FFmpeg); filters through scipy; resampling through soxr. Signals are float32 mono at 16 kHz.
"""

from __future__ import annotations

import io

import numpy as np

from ..io.audio import SAMPLE_RATE

#: G.711 companding laws, as FFmpeg PCM codecs.
LAWS = {"mulaw": "pcm_mulaw", "alaw": "pcm_alaw"}


def codec_roundtrip(signal: np.ndarray, codec: str, rate: int, bit_rate: int | None = None,
                    container: str = "wav") -> np.ndarray:
    """Encode ``signal`` with an FFmpeg ``codec`` at ``rate`` Hz and decode it back to 16 kHz, same length.

    >>> y = codec_roundtrip(np.zeros(16000, np.float32), "pcm_mulaw", 8000)
    >>> y.shape, y.dtype
    ((16000,), dtype('float32'))
    """
    import av
    import soxr

    if signal.size == 0:
        return signal.astype(np.float32)
    x = np.clip(soxr.resample(signal.astype(np.float32), SAMPLE_RATE, rate), -1.0, 1.0)
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        if bit_rate:
            stream.bit_rate = bit_rate
        fmt = stream.codec_context.codec.audio_formats[0].name
        pcm = (x * 32767).astype(np.int16) if fmt.startswith("s16") else x.astype(np.float32)
        frame = av.AudioFrame.from_ndarray(pcm[None], format="s16" if pcm.dtype == np.int16 else "flt",
                                           layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    buf.seek(0)
    chunks = []
    with av.open(buf) as inp:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        for decoded in inp.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(decoded)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    y = np.concatenate(chunks)[: signal.size] if chunks else np.zeros(0, np.float32)
    return np.clip(np.pad(y, (0, signal.size - y.size)), -1.0, 1.0).astype(np.float32)


def telephone(signal: np.ndarray, low: float = 300.0, high: float = 3400.0, order: int = 4,
              law: str = "mulaw", gain_db: float = 0.0) -> np.ndarray:
    """A landline-like copy: Butterworth band-pass ``low``-``high`` Hz, 8 kHz, G.711 ``law``, back to 16 kHz."""
    from scipy.signal import butter, sosfilt

    sos = butter(order, [low, high], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    band = sosfilt(sos, signal.astype(np.float64)) * 10 ** (gain_db / 20)
    return codec_roundtrip(band.astype(np.float32), LAWS[law], 8000)


def random_telephone(signal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`telephone` with its settings drawn from ``rng``: band edges 200-500 / 3000-3700 Hz,
    filter order 2-6, mu-law or A-law, gain -6..+6 dB."""
    return telephone(signal, low=rng.uniform(200, 500), high=rng.uniform(3000, 3700),
                     order=int(rng.integers(2, 7)), law=str(rng.choice(sorted(LAWS))),
                     gain_db=rng.uniform(-6, 6))
