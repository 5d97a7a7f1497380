"""What every ``regflow`` subcommand shares: exit codes, consoles, ``--db``
and ``--on``, the bad-input error, and opening the store.

Its own module so that a subcommand kept apart from :mod:`regflow.cli`
(``report``) and the group itself use one definition, and the group can
import the subcommand at the top without a cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

if TYPE_CHECKING:
    from .store import Repository

__all__ = [
    "DEFAULT_DB",
    "EXIT_BAD_INPUT",
    "EXIT_FINDINGS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "BadInput",
    "db_option",
    "err",
    "on_option",
    "out",
    "parse_day",
    "repository",
]

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_DB = "regflow.sqlite3"

# No emoji codes either: an agent id ":thumbs_up:" is printed as written.
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class BadInput(click.ClickException):
    """Input the command cannot use; exit code 2."""

    exit_code = EXIT_BAD_INPUT


def parse_day(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> dt.date | None:
    """click callback: ``YYYY-MM-DD`` as a date, or a usage error saying so."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2023-10-20") from None


db_option = click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite file, or a postgresql:// URL.",
)
on_option = click.option(
    "--on",
    "on",
    callback=parse_day,
    help="The day to judge deadlines on (YYYY-MM-DD); default today.",
)


@contextmanager
def repository(
    location: str, *, create: bool = False, every_agency: bool = False
) -> Iterator[Repository]:
    """The repository at *location*, closed afterwards.

    A SQLite file that does not exist is :class:`BadInput` unless *create*:
    a typo in ``--db`` must not make an empty database. With *every_agency*
    the repository reads every agency's registrations.
    """
    from .store import ANY_AGENCY, Repository, open_store

    if not create and "://" not in location and not Path(location).exists():
        raise BadInput(f"no database at {location!r}; run 'regflow demo' or pass --db")
    store = open_store(location)
    repo = Repository(store, agency=ANY_AGENCY) if every_agency else Repository(store)
    try:
        yield repo
    finally:
        repo.close()
