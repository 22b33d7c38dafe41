"""Getting the audio bytes out of a request: a multipart field or the raw body.

The body size is already capped by ``limits.BodySizeLimit``, so reading into memory is bounded and
leaves no temporary files behind (spooled form parts are closed when the form is).
"""

from __future__ import annotations

import re

from fastapi import HTTPException, Request, UploadFile

ACCEPTED_BODIES = (
    "multipart/form-data with the audio in field '{field}', or the raw audio file as the request "
    "body (Content-Type audio/* or application/octet-stream)"
)


def display_name(filename: str | None) -> str:
    r"""The client's file name, fit for messages only: its last part, printable, at most 80 characters.

    The bytes are decoded from memory; this name is never opened, nor handed to a decoder.

    >>> display_name("../../etc/clip.m3u8"), display_name(None), display_name("a\\b\nc.wav")
    ('clip.m3u8', 'upload', 'bc.wav')
    """
    last = re.split(r"[\\/]", filename or "")[-1]
    text = "".join(ch for ch in last if ch.isprintable()).strip()[:80]
    return text or "upload"


async def read_upload(request: Request, field: str = "file") -> tuple[bytes, str | None]:
    """Return (audio bytes, file name or None) from a multipart field or the raw body."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        async with request.form() as form:
            item = form.get(field)
            if item is None:
                raise HTTPException(
                    422, f"missing form field {field!r}; send " + ACCEPTED_BODIES.format(field=field)
                )
            if isinstance(item, str):
                raise HTTPException(422, f"form field {field!r} must be a file upload, got a text value")
            return await read_file(item), item.filename
    if content_type.startswith(("application/x-www-form-urlencoded", "application/json", "text/")):
        raise HTTPException(
            415, f"unsupported request body type {content_type!r}; send " + ACCEPTED_BODIES.format(field=field)
        )
    return await request.body(), None


async def read_file(upload: UploadFile) -> bytes:
    """Read an uploaded part into memory and close it (its spool file goes with it)."""
    try:
        return await upload.read()
    finally:
        await upload.close()
