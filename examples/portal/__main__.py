"""``python -m portal``: seed the demo database if it is empty, then serve it.

python -m portal                                  # ./portal.sqlite3
python -m portal --database postgresql://user@host/db --schema portal
REGFLOW_PORTAL_DATABASE=postgresql://... python -m portal
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from .app import Settings, create_app


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m portal", description=__doc__)
    parser.add_argument(
        "--database",
        default=os.environ.get("REGFLOW_PORTAL_DATABASE", "portal.sqlite3"),
        help="a SQLite file or a postgresql:// URL (env REGFLOW_PORTAL_DATABASE)",
    )
    parser.add_argument(
        "--schema",
        default=os.environ.get("REGFLOW_PORTAL_SCHEMA", "regflow"),
        help="the PostgreSQL schema (env REGFLOW_PORTAL_SCHEMA)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = Settings(database=args.database, schema=args.schema, seed=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
