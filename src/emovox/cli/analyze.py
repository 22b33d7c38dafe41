"""`emovox analyze FILE...`: dominant emotion, a bar per emotion and the acoustic descriptors."""

from __future__ import annotations

import json

from ..defaults import ADAPT_CLIPS, MAX_DURATION_S, TIMELINE_HOP_S, TIMELINE_WINDOW_S
from ..errors import EmovoxError
from .output import adapted, print_prediction, report_error


def register(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyze recordings (table, or JSON Lines with --json)",
        description="Analyze voice recordings: per-emotion scores, the dominant emotion and "
        "acoustic descriptors. Exits 1 if any file failed; the others are still reported.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, flac, mp3, ogg, m4a, webm...), images (jpg, png, webp: faces) "
                   "or videos (mp4, mov, webm, mkv, avi, flv: faces and voice)")
    p.add_argument("--model", "-m", default=None, help="model name, folder or hub id (default: built-in)")
    p.add_argument("--json", action="store_true", help="one JSON object per file (JSON Lines)")
    p.add_argument("--top-k", type=_positive, default=None, help="show only the K most likely emotions")
    p.add_argument("--no-features", action="store_true", help="skip the acoustic descriptors")
    p.add_argument(
        "--labels", default=None, metavar="A,B,...",
        help="answer only these of the model's emotions, scores renormalised over them "
        "(e.g. angry,happy,neutral,sad; a label the model lacks is an error that lists the ones it has)",
    )
    p.add_argument("--adapt-to", default=None, metavar="FOLDER|GLOB|CSV",
                   help="first adapt the model to recordings like these files (unlabelled, at least 20; "
                   "see README 'Adapting to your recordings')")
    p.add_argument("--adapt", type=_positive, default=ADAPT_CLIPS, metavar="N",
                   help=f"how many --adapt-to files to draw at random (default {ADAPT_CLIPS})")
    p.add_argument("--no-adapt", action="store_true",
                   help="with --timeline: do not adapt to the recording's own speech (by default a timeline "
                   "with at least 20 speech windows, about 30 s, is adapted to it)")
    p.add_argument("--fps", type=float, default=4.0, help="video frames analysed per second for faces (default 4)")
    p.add_argument("--batch-size", type=_positive, default=8, help="clips per model call (default 8)")
    p.add_argument(
        "--max-duration", type=float, default=None,
        help=f"longest input in seconds (default {MAX_DURATION_S:g}; no limit with --timeline)",
    )
    p.add_argument("--transcribe", action="store_true",
                   help="also transcribe (English, Whisper tiny.en; needs emovox[transcribe]) and give the "
                   "words' emotion and voice + words fused; per speech segment with --timeline")
    t = p.add_argument_group("timeline (long recordings: emotion over time)")
    t.add_argument("--timeline", action="store_true", help="segments of speech with emotions, and silences; for a video, "
                   "voice, face and fused emotion per segment")
    t.add_argument("--window", type=_seconds, default=TIMELINE_WINDOW_S,
                   help=f"window length in seconds (default {TIMELINE_WINDOW_S:g})")
    t.add_argument(
        "--hop", type=_seconds, default=TIMELINE_HOP_S,
        help=f"seconds between windows (default {TIMELINE_HOP_S:g}; 1 gives finer steps at 1.5x the model time)",
    )
    t.add_argument("--csv", action="store_true", help="CSV: one row per segment")
    t.add_argument("--vtt", action="store_true", help="WebVTT captions of the speech segments")
    t.add_argument("--plot", metavar="FILE.png", default=None, help="also write a PNG chart")
    t.add_argument("--speakers", action="store_true", help="with --timeline: who spoke when, and the emotion of "
                   "each speaker's turns (segments carry speaker S1, S2...; a summary per speaker)")
    t.add_argument("--num-speakers", type=_positive, default=None, metavar="N",
                   help="with --speakers: the number of voices when known (default: estimated)")
    p.set_defaults(func=run)


def _positive(value: str) -> int:
    import argparse

    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return n


def _seconds(value: str) -> float:
    import argparse

    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds (a positive number), got {value!r}") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"expected seconds (a positive number), got {value!r}")
    return x


def run(args) -> int:
    import emovox

    if args.no_adapt and args.adapt_to:
        import sys

        print("emovox analyze: error: --no-adapt cannot be combined with --adapt-to", file=sys.stderr)
        return 2
    if args.transcribe:
        from .words_view import run_words

        return run_words(args)
    if args.speakers or args.num_speakers:
        from .conversation_view import run_conversation

        return run_conversation(args)  # checks the flag combinations itself
    if args.timeline or args.csv or args.vtt or args.plot:
        from .timeline_view import run_timeline

        return run_timeline(args)  # checks the flag combinations itself
    from .media_view import is_media, run_media

    media = [f for f in args.files if is_media(f)]  # images, and videos with a picture: faces too
    failed_media = run_media(media, args) if media else 0
    args.files = [f for f in args.files if f not in media]
    if not args.files:
        return 1 if failed_media else 0
    limit = MAX_DURATION_S if args.max_duration is None else args.max_duration
    model = adapted(emovox.load_model(
        args.model, features=not args.no_features, max_duration_s=limit, labels=args.labels
    ), args)
    failed = 0
    results = model.iter_predict(args.files, batch_size=args.batch_size, errors="return")
    for path, result in zip(args.files, results):
        if isinstance(result, EmovoxError):
            failed += 1
            report_error(path, result, args.json)
            continue
        if args.json:
            print(json.dumps(result.to_dict(top_k=args.top_k), ensure_ascii=False), flush=True)
        else:
            print_prediction(result, args.top_k)
    return 1 if failed or failed_media else 0
