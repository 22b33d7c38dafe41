"""`emovox serve`: the HTTP service and web page, served by uvicorn.

Flags override ``EMOVOX_*`` environment variables, which override the defaults.
"""

from __future__ import annotations

from ..defaults import ADAPT_CLIPS, MAX_DURATION_S, MIN_REFERENCE_CLIPS

MAX_HEADER_BYTES = 16 * 1024  # request line + headers; larger ones get 400 (h11's limit, stated here)


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="run the HTTP API and web page",
        description="Serve the emotion-analysis API (/v1/analyze, compatible routes, /docs) and the "
        "web page at /. Settings also come from EMOVOX_* environment variables.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--model", "-m", default=None, help="model name, folder or hub id (default: built-in)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the model")
    p.add_argument("--max-upload-mb", type=float, default=None,
                   help="largest upload in MiB (1 MiB = 1,048,576 bytes; default 25)")
    p.add_argument("--max-inflight-mb", type=float, default=None,
                   help="most upload MiB held in memory at once over all requests; beyond it 503 with "
                   "Retry-After (default 4 x --max-upload-mb)")
    p.add_argument("--body-timeout", type=float, default=None, metavar="S",
                   help="seconds allowed for receiving one request body; slower uploads get 408 (default 120)")
    p.add_argument("--header-timeout", type=float, default=None, metavar="S",
                   help="seconds allowed for a request's headers, from the connection or the previous "
                   "response; then the connection is closed (default 10)")
    p.add_argument("--keep-alive", type=float, default=None, metavar="S",
                   help="seconds an idle kept-alive connection stays open (default 5)")
    p.add_argument("--trusted-hosts", default=None, metavar="HOSTS",
                   help="answer only these Host header values, comma-separated ('*.example.com' for "
                   "subdomains); others get 400 (default '*': any)")
    p.add_argument("--max-duration", type=float, default=None,
                   help=f"longest recording in s (default {MAX_DURATION_S:g})")
    p.add_argument(
        "--cors-origin", action="append", default=None, metavar="ORIGIN",
        help="allow this origin through CORS (repeatable; default none)",
    )
    p.add_argument("--concurrency", type=int, default=None, help="recordings analyzed at once (default 2)")
    p.add_argument("--adapt-to", default=None, metavar="FOLDER|GLOB|CSV",
                   help="adapt the model at start-up to recordings like those it will serve (unlabelled; "
                   "see README 'Adapting to your recordings')")
    p.add_argument("--adapt", type=int, default=None, metavar="N",
                   help=f"how many --adapt-to files to draw at random (default {ADAPT_CLIPS}, at least {MIN_REFERENCE_CLIPS})")
    p.add_argument("--log-level", default=None, help="critical, error, warning, info (default), debug")
    p.set_defaults(func=run)


def settings_from_args(args):
    """Settings from the environment, with every flag that was given taken over them."""
    from pydantic import ValidationError

    from ..server.settings import Settings

    given = {
        "model": args.model,
        "threads": args.threads,
        "max_upload_mb": args.max_upload_mb,
        "max_inflight_mb": args.max_inflight_mb,
        "body_timeout_s": args.body_timeout,
        "header_timeout_s": args.header_timeout,
        "keep_alive_s": args.keep_alive,
        "trusted_hosts": args.trusted_hosts,
        "max_duration_s": args.max_duration,
        "cors_origins": args.cors_origin,
        "log_level": args.log_level,
        "concurrency": args.concurrency,
        "adapt_to": args.adapt_to,
        "adapt_clips": args.adapt,
    }
    try:
        return Settings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"emovox serve: error: invalid settings (flags or EMOVOX_* variables): {problems}") from None


def run(args) -> int:
    from ..errors import require

    uvicorn = require("uvicorn", "server", "emovox serve")
    from ..server import create_app
    from ..server.app import load_server_model
    from ..server.protocol import header_timeout_protocol

    settings = settings_from_args(args)
    model = load_server_model(settings)  # a bad --model or --adapt-to fails here with one line, before binding
    if settings.adapt_to:
        print(f"emovox: adapted to {model.info.extra['adapted_to_clips']} clips of {settings.adapt_to}", flush=True)
    app = create_app(settings, model=model)
    print(f"emovox: serving on http://{args.host}:{args.port}/  (API docs at /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, http=header_timeout_protocol(settings.header_timeout_s),
                **uvicorn_options(settings))
    return 0


def uvicorn_options(settings) -> dict:
    """uvicorn's settings that follow emovox's: a WebSocket message (``/ws/emotion/stream``) may be as
    large as the multimodal route's JSON body (base64 of a video and an audio file; uvicorn's own
    default, 16 MiB, would cut off a video under MAX_VIDEO_FILE_SIZE with close code 1009)."""
    from ..server.answers import body_limits

    return {
        "log_level": settings.log_level, "access_log": False,
        "timeout_keep_alive": settings.keep_alive_s,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "ws_max_size": max(body_limits(settings).values()),
    }
