"""The HTTP service and web page (``pip install "emovox[server]"``).

>>> from emovox.server import Settings, create_app     # doctest: +SKIP
>>> app = create_app(Settings(model="emovox-base"))     # doctest: +SKIP
"""

from __future__ import annotations

from ..errors import require

for _module in ("fastapi", "starlette", "pydantic_settings", "prometheus_client", "anyio"):
    require(_module, "server", "the emovox HTTP server")
try:
    import python_multipart  # noqa: F401
except ImportError:
    require("multipart", "server", "the emovox HTTP server (python-multipart)")

from .app import create_app  # noqa: E402
from .settings import Settings  # noqa: E402

__all__ = ["Settings", "create_app"]
