"""iter_audio: streaming decode gives what load_audio gives, block by block, with the same errors."""

import numpy as np
import pytest

from conftest import speech_like
from emovox.errors import AudioError
from emovox.io.audio import iter_audio, load_audio


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "ogg", "m4a", "webm"])
def test_blocks_match_load_audio(write_audio, fmt):
    signal = speech_like(7.3, sr=44_100)
    path = write_audio(f"clip.{fmt}", signal, sr=44_100)
    stream = iter_audio(path, chunk_s=2.0)
    blocks = list(stream)
    whole = load_audio(path)
    joined = np.concatenate(blocks)
    assert joined.dtype == np.float32
    assert joined.size == whole.size
    np.testing.assert_allclose(joined, whole, atol=1e-4)
    assert len(blocks) >= 3
    assert max(b.size for b in blocks) < 3.0 * 16_000  # about chunk_s each, never the whole file
    assert stream.duration_s == pytest.approx(7.3, abs=0.1)


def test_array_and_bytes_sources():
    x = speech_like(2.5, sr=8000)
    blocks = list(iter_audio((x, 8000), chunk_s=1.0))
    assert sum(b.size for b in blocks) == pytest.approx(2.5 * 16_000, abs=2)
    from conftest import encode

    assert np.concatenate(list(iter_audio(encode(x, 8000, "wav")))).size == pytest.approx(40_000, abs=2)


def test_open_errors_raise_at_once(tmp_path):
    with pytest.raises(AudioError, match="file not found"):
        iter_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="0 bytes"):
        iter_audio(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio, just text renamed to .wav\n" * 20)
    with pytest.raises(AudioError, match="could not decode .*notes.wav"):
        iter_audio(text)


def test_content_errors():
    with pytest.raises(AudioError, match="zero length"):
        list(iter_audio((np.zeros(0, np.float32), 16000)))
    bad = np.zeros(16000, np.float32)
    bad[100] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        list(iter_audio((bad, 16000)))
    with pytest.raises(ValueError, match="chunk_s"):
        iter_audio((bad, 16000), chunk_s=0)
