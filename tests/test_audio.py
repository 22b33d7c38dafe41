"""audio.py: every accepted form and format decodes to float32 mono 16 kHz; bad input is named."""

import io

import numpy as np
import pytest

from conftest import ENCODINGS, encode, tone
from emovox.errors import AudioError
from emovox.io.audio import SAMPLE_RATE, decode, is_silent, load_audio, rms_dbfs

FORMATS = ["wav", "flac", *ENCODINGS]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_from_path_bytes_and_file(fmt, write_audio):
    sig = tone(440, 1.5, sr=44_100)
    path = write_audio(f"clip.{fmt}", sig, sr=44_100, fmt=fmt)
    with open(path, "rb") as handle:
        sources = (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes()), handle)
        decoded = [load_audio(source) for source in sources]
    for x in decoded:
        assert x.dtype == np.float32 and x.ndim == 1
        # lossy codecs add encoder delay/padding: allow a few frames around 1.5 s
        assert abs(x.size / SAMPLE_RATE - 1.5) < 0.1, (fmt, x.size)
        assert 0.2 < np.abs(x).max() < 0.45
        # the pitch survives decoding and resampling
        spectrum = np.abs(np.fft.rfft(x[4000:12000]))
        assert abs(np.argmax(spectrum) * SAMPLE_RATE / 8000 - 440) < 5


def test_stereo_is_downmixed_and_rate_reported(tmp_path):
    import soundfile as sf

    left, right = tone(300, 1, sr=22_050), np.zeros(22_050, np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 22_050)
    d = decode(path)
    assert d.channels == 2 and d.sample_rate == 22_050
    np.testing.assert_allclose(d.signal, left / 2, atol=1e-4)
    assert load_audio(path).size == SAMPLE_RATE


def test_array_sources():
    x = load_audio((tone(200, 1, sr=8000), 8000))
    assert x.size == 16000
    stereo = np.stack([tone(200, 1), tone(200, 1)])  # (channels, samples)
    assert load_audio((stereo, 16000)).shape == (16000,)
    with pytest.raises(AudioError, match="sample_rate must be a positive integer"):
        load_audio((tone(), 0))
    with pytest.raises(AudioError, match="tuple"):
        load_audio((tone(), 16000, 1))
    with pytest.raises(AudioError, match="shape"):
        load_audio((np.zeros((2, 2, 2)), 16000))
    with pytest.raises(AudioError, match="NaN"):
        load_audio((np.full(100, np.nan), 16000))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("this is not audio, it is a text file renamed .wav\n" * 20), "could not decode"),
        (lambda p: p.write_bytes(bytes(range(256)) * 40), "could not decode"),
        (lambda p: p.write_bytes(encode(tone(), 16000, "wav")[:44]), "no audio samples|could not decode"),
    ],
    ids=["empty", "text-renamed-wav", "random-bytes", "header-only"],
)
def test_bad_files_give_clear_errors(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError, match=message) as info:
        load_audio(path)
    assert "bad.wav" in str(info.value)


def test_corrupt_error_says_what_was_received_and_accepted():
    with pytest.raises(AudioError) as info:
        load_audio(b"hello world, definitely not audio")
    text = str(info.value)
    assert "33 bytes" in text and "b'hello world," in text and "Accepted: wav, flac" in text


def test_missing_and_wrong_types(tmp_path):
    with pytest.raises(AudioError, match="file not found"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="not a file"):
        load_audio(tmp_path)
    with pytest.raises(AudioError, match="0 bytes"):
        load_audio(b"")
    with pytest.raises(AudioError, match="unsupported audio source of type int"):
        load_audio(42)
    with pytest.raises(AudioError, match="empty"):
        load_audio(io.BytesIO(b""))


def test_video_without_audio_is_named(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "video.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(AudioError, match="no audio stream"):
        load_audio(path)


def test_error_classes_tell_undecodable_from_too_long(write_audio):
    from emovox.errors import AudioTooLongError, UndecodableAudioError

    with pytest.raises(UndecodableAudioError):
        load_audio(b"plain text, not audio at all")
    with pytest.raises(AudioTooLongError):
        load_audio(write_audio("long.wav", tone(220, 3)), max_duration_s=1)
    with pytest.raises(AudioError) as info:
        load_audio(b"")
    assert not isinstance(info.value, (UndecodableAudioError, AudioTooLongError))


def test_max_duration(write_audio):
    path = write_audio("long.flac", tone(220, 5))
    with pytest.raises(AudioError, match="longer than the maximum of 2 s"):
        load_audio(path, max_duration_s=2)
    mp3 = write_audio("long.mp3", tone(220, 5))
    with pytest.raises(AudioError, match="longer than the maximum"):
        load_audio(mp3, max_duration_s=2)
    assert load_audio(path, max_duration_s=10).size == 5 * SAMPLE_RATE


def test_silence_detection():
    assert is_silent(np.zeros(16000, np.float32))
    assert is_silent(tone(amp=1e-4))
    assert not is_silent(tone(amp=0.05))
    assert rms_dbfs(tone(amp=0.1)) == pytest.approx(20 * np.log10(0.1 / np.sqrt(2)), abs=0.05)


def test_soft_speech_between_long_pauses_is_not_silent():
    """The level of the loudest stretch decides: 0.4 s of a soft tone in 4 s is quiet overall
    (about -63 dBFS for the clip) but audible, so it is analysed, not reported silent."""
    soft = tone(amp=0.003, seconds=0.4)
    clip = np.concatenate([np.zeros(int(1.8 * SAMPLE_RATE), np.float32), soft,
                           np.zeros(int(1.8 * SAMPLE_RATE), np.float32)])
    assert rms_dbfs(clip) < -60
    assert not is_silent(clip)
    assert is_silent(clip * 0.01)  # the same 40 dB quieter: below -60 dBFS everywhere
    assert is_silent(np.zeros(10, np.float32)) and is_silent(np.zeros(0, np.float32))
