"""The exception tree. The CLI prints one line for these; the server maps each to one 4xx body."""


class EmovoxError(Exception):
    """Base class for every error emovox raises on purpose."""


class OptionError(EmovoxError, ValueError):
    """An option value is out of range or unknown (max_duration_s, window_s/hop_s, batch_size, ...).

    Also a ValueError, so code written as ``except ValueError`` keeps working.
    """


class AudioError(EmovoxError):
    """The audio could not be used: empty, corrupt, unsupported, too long..."""


class UndecodableAudioError(AudioError):
    """The bytes are not audio emovox can decode: corrupt, unsupported codec, no audio stream."""


class AudioTooLongError(AudioError):
    """The recording is longer than the configured maximum duration."""


class TextError(EmovoxError):
    """The text could not be used: empty, whitespace only, not UTF-8, too long..."""


class TextTooLongError(TextError):
    """The text is longer than the configured maximum number of characters."""


class TextDecodeError(TextError):
    """The bytes are not valid UTF-8 text."""


class ModelError(EmovoxError):
    """A model could not be found, loaded or run."""


class MissingExtraError(EmovoxError, ImportError):
    """An optional dependency is missing; the message names the pip command that installs it."""

    def __init__(self, extra: str, what: str, module: str | None = None) -> None:
        self.extra = extra
        self.command = f'pip install "emovox[{extra}]"'
        missing = f" ({module} is not installed)" if module else ""
        super().__init__(f"{what} needs the '{extra}' extra{missing}: {self.command}")


class MissingExtraWarning(UserWarning):
    """Part of an answer was left out because an optional dependency is missing (the message names the pip command)."""


def require(module: str, extra: str, what: str):
    """Import `module` or raise MissingExtraError naming `pip install emovox[extra]`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(extra, what, module) from exc


class MediaError(EmovoxError):
    """An image or a video could not be used: corrupt, unsupported, too large, too long..."""


class ImageError(MediaError):
    """The bytes are not an image emovox reads (jpg, png, webp), or it has too many pixels."""


class VideoError(MediaError):
    """The bytes are not a video emovox reads (mp4, webm, mov, mkv, avi, flv), or it is too long."""


class MediaTooLargeError(MediaError):
    """Too many bytes, pixels or seconds for the configured limits (HTTP 413)."""


class UndecodableMediaError(MediaError):
    """Not an image or video emovox can decode (HTTP 415)."""


class ImageTooLargeError(ImageError, MediaTooLargeError):
    """An image with more pixels, or a file with more bytes, than the limits allow."""


class UndecodableImageError(ImageError, UndecodableMediaError):
    """Bytes that are not a jpg, png or webp image, or a damaged one."""


class VideoTooLargeError(VideoError, MediaTooLargeError):
    """A video longer, bigger in bytes or in frame pixels than the limits allow."""


class UndecodableVideoError(VideoError, UndecodableMediaError):
    """Bytes that are not a video in an accepted container, or one with no decodable video stream."""
