"""A reference portal embedding regflow: FastAPI, Jinja2, regflow's async store.

``create_app(Settings(...))`` is the ASGI application; ``python -m portal``
(``make portal``) seeds a demo database and serves it on 127.0.0.1:8000.
"""

from __future__ import annotations

from .app import Settings, create_app
from .outbox import deliver

__all__ = ["Settings", "create_app", "deliver"]
