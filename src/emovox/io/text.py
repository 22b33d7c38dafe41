"""The one way in for text: decode (UTF-8), bound the length, normalise. Like ``audio.py`` for audio.

>>> load_text("  I can\u2019t   believe it!\\n")
"I can't believe it!"
>>> load_text(b"caf\\xc3\\xa9")
'café'
"""

from __future__ import annotations

import os
import re
import unicodedata

from ..defaults import MAX_TEXT_LENGTH
from ..errors import TextDecodeError, TextError, TextTooLongError

TextSource = str | bytes
_ENV = ("EMOVOX_MAX_TEXT_LENGTH", "MAX_TEXT_LENGTH")  # the emovox name wins over the seed's
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201f": '"', "\u2033": '"'})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # valid JSON ("\\ud800"), but no Unicode text: no model takes it


def max_text_length() -> int:
    """The configured limit: ``EMOVOX_MAX_TEXT_LENGTH``, else ``MAX_TEXT_LENGTH``, else 5,000."""
    for name in _ENV:
        value = os.environ.get(name, "").strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise TextError(f"{name} must be a positive whole number of characters, got {value!r}")
            return int(value)
    return MAX_TEXT_LENGTH


def normalise(text: str) -> str:
    """NFKC, plain quotes, no control characters, runs of whitespace as one space, trimmed.

    Training and inference both pass every text through this, so the model sees one form.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def load_text(source: TextSource, *, max_length: int | None = None) -> str:
    """Validate and normalise one text from a user; ``TextError`` says what was wrong.

    ``bytes`` must be UTF-8 (a byte-order mark is dropped); a ``str`` must not hold a lone UTF-16
    surrogate (``TextDecodeError`` naming its position). Longer than ``max_length`` characters
    (default ``max_text_length()``) is ``TextTooLongError``; empty or whitespace-only is ``TextError``.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = decode(bytes(source))
    if not isinstance(source, str):
        raise TextError(f"expected text (str or UTF-8 bytes), got {type(source).__name__}")
    limit = max_text_length() if max_length is None else max_length
    if len(source) > limit:
        raise TextTooLongError(
            f"text is {len(source):,} characters long; the limit is {limit:,} "
            f"(set MAX_TEXT_LENGTH or EMOVOX_MAX_TEXT_LENGTH to change it)"
        )
    _refuse_surrogates(source)
    text = normalise(source)
    if not text:
        what = "empty" if not source else "only whitespace or control characters"
        raise TextError(f"text is {what}: give at least one word")
    return text


def _refuse_surrogates(text: str) -> None:
    """TextDecodeError naming the first lone UTF-16 surrogate (JSON's ``"\\ud800"`` decodes to one).

    Refused rather than replaced: a surrogate means the client's text was cut or mis-encoded
    (half of an emoji's pair), and a silent U+FFFD would hide that from it.
    """
    bad = _SURROGATE.search(text)
    if bad is not None:
        raise TextDecodeError(
            f"text has a lone UTF-16 surrogate U+{ord(bad.group()):04X} at character {bad.start()} "
            "(half of a surrogate pair, e.g. a cut emoji); send valid Unicode text"
        )


def decode(data: bytes) -> str:
    """UTF-8 bytes -> str (a byte-order mark dropped); TextDecodeError naming the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 1].hex()
        raise TextDecodeError(
            f"text is not valid UTF-8 (byte 0x{bad} at offset {exc.start}); send UTF-8 encoded text"
        ) from None
