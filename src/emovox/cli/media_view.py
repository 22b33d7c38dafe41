"""`emovox analyze photo.jpg | talk.mp4`: faces (a box and an emotion each) and, for video, the voice."""

from __future__ import annotations

import json

from ..errors import EmovoxError
from .output import report_error


def is_media(path: str) -> bool:
    """An image, or a video container that holds a video stream (an audio-only mp4/webm is audio)."""
    from ..analysis.media import probe

    return probe(path)[0] is not None


def run_media(files: list[str], args) -> int:
    """Analyse each file; print one block (or one JSON line) per file. Returns the number that failed."""
    import emovox

    from ..analysis.media import analyze_media

    if not args.fps > 0:
        raise EmovoxError(f"--fps must be positive, got {args.fps:g}")
    face_model = emovox.load_face_model()
    voice_model = None
    failed = 0
    for path in files:
        try:
            if voice_model is None and not is_image(path):
                voice_model = emovox.load_model(args.model, features=False, labels=args.labels)
            p = analyze_media(path, face_model=face_model, voice_model=voice_model,
                              fps=args.fps)
        except EmovoxError as exc:
            failed += 1
            report_error(path, exc, args.json)
            continue
        if args.json:
            print(json.dumps(p.to_dict(), ensure_ascii=False), flush=True)
        else:
            print_media(p)
    return failed


def is_image(path: str) -> bool:
    from ..io.vision import kind_of

    return kind_of(path) == "image"


def _emotion(name: str | None, confidence: float) -> str:
    from ..labels import emotion_info

    if name is None:
        return "-"
    info = emotion_info(name)
    return f"{info.emoji} [bold {info.color}]{info.label}[/] {confidence:.0%}"


def print_media(p) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    lines = Table.grid(padding=(0, 2))
    found = f"{p.faces_detected} face{'s' if p.faces_detected != 1 else ''} found"
    if p.kind == "video":
        found += f" in {p.frames_analyzed} frames sampled at {p.fps:g}/s"
    lines.add_row("[bold]faces[/]", found)
    for track in p.tracks:
        box = track.observations[len(track.observations) // 2].box
        where = f"box x={box[0]} y={box[1]} w={box[2]} h={box[3]}"
        if p.kind == "video":
            over_time = " ".join(o.emotion[:3] for o in track.observations)
            where += f", {track.frames} frames {track.start_s:.2f}-{track.end_s:.2f} s: {over_time}"
        lines.add_row(f"face {track.id}", f"{_emotion(track.emotion, track.confidence)}  ({where})")
    if p.face is not None and len(p.tracks) > 1:
        lines.add_row("all faces", _emotion(p.face.emotion, p.face.confidence))
    if p.kind == "video":
        if p.voice is None:
            voice = "no audio track"
        elif p.voice.silent:
            voice = "silent - no speech, so no vocal emotion"
        else:
            voice = _emotion(p.voice.emotion, p.voice.confidence)
        lines.add_row("[bold]voice[/]", voice)
    if p.fused is not None and len(p.fused.modalities) > 1:
        fused = _emotion(p.fused.emotion, p.fused.confidence)
        if p.fused.conflict:
            fused += "  (voice and face disagree)"
        lines.add_row("[bold]fused[/]", fused)
    title = f"{p.file or p.kind}  ({p.width}x{p.height}"
    title += f", {p.duration_s:.2f} s)" if p.kind == "video" else ")"
    Console().print(Panel(lines, title=title, title_align="left"))
