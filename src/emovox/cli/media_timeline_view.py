"""`emovox analyze talk.mp4 --timeline`: voice, face and fused emotion per span, as a table, JSON,
CSV, or a PNG of three lanes."""

from __future__ import annotations

from ..errors import EmovoxError, MediaError
from .output import clock, emit_recording, report_error

_FACE_MODEL = []


def run_media_timeline(path: str, voice_model, args) -> int:
    """One video's media timeline printed (and plotted with --plot); returns 1 if it failed, else 0."""
    import emovox

    from ..analysis.media_timeline import build_media_timeline
    from .media_view import is_image

    try:
        if is_image(path):
            raise MediaError("an image has no timeline; leave out --timeline for its faces")
        if args.vtt:
            raise MediaError("--vtt is for audio; a video's timeline comes as a table, --json, --csv or --plot")
        if not args.fps > 0:
            raise MediaError(f"--fps must be positive, got {args.fps:g}")
        if not _FACE_MODEL:
            _FACE_MODEL.append(emovox.load_face_model())
        mt = build_media_timeline(path, face_model=_FACE_MODEL[0], voice_model=voice_model, fps=args.fps,
                                  window_s=args.window, hop_s=args.hop, max_duration_s=args.max_duration,
                                  adapt=False if getattr(args, "no_adapt", False) else "auto")
    except EmovoxError as exc:
        report_error(path, exc, args.json)
        return 1
    emit_recording(mt, args, print_media_timeline)  # --vtt was refused above
    return 0


def print_media_timeline(mt, console=None) -> None:
    """A table: one row per span with the voice, face and fused emotion."""
    from rich.console import Console
    from rich.table import Table

    from .media_view import _emotion

    console = console or Console()
    models = f"{mt.voice.model}, {mt.face_model}" if mt.voice is not None else f"{mt.face_model}, no audio"
    table = Table(title=f"{mt.file or 'video'}  ({mt.duration_s:.1f} s, {models})", title_justify="left")
    for col, justify in (("start", "right"), ("end", "right"), ("voice", "left"), ("face", "left"),
                         ("fused", "left")):
        table.add_column(col, justify=justify)
    for s in mt.spans:
        voice = _emotion(s.voice.emotion, s.voice.confidence) if s.voice else "[dim]· no speech[/]"
        face = _emotion(s.face.emotion, s.face.confidence) if s.face else "[dim]· no face[/]"
        fused = _emotion(s.fused.emotion, s.fused.confidence) if s.fused else "-"
        if s.fused is not None and s.fused.conflict:
            fused += " [dim](disagree)[/]"
        table.add_row(clock(s.start), clock(s.end), voice, face, fused)
    console.print(table)
    faces = len(mt.tracks)
    console.print(f"{faces} face{'s' if faces != 1 else ''} in {mt.frames_analyzed} frames sampled at "
                  f"{mt.fps:g}/s; {sum(s.voice is not None for s in mt.spans)} speech span(s)")
