"""``regflow report``: the readiness report of a plan year, as HTML, CSV and JSON.

Registered on the ``regflow`` group by :mod:`regflow.cli`. Writes three
files with one stem, each renamed into place only once all three are
rendered; bad input is one line on stderr and exit code 2, as for every
command. Self-contained (its options mirror cli's ``--db`` and ``--on``), so
that cli can import it at the top without a cycle.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._cli_common import BadInput, db_option, on_option, repository
from ._cli_common import out as _out
from ._errors import RegflowError
from ._messages import locales
from ._text import text

if TYPE_CHECKING:
    pass

__all__ = ["demo_report", "report", "write_report"]


def _extra_missing() -> bool:
    return any(
        importlib.util.find_spec(name) is None for name in ("jinja2", "matplotlib")
    )


def write_report(
    db: str,
    *,
    plan_year: int,
    on: dt.date,
    output: Path,
    agency: str | None = None,
    locale: str = "en",
    rcl: Path | None = None,
    termination: Path | None = None,
) -> tuple[Path, Path, Path]:
    """Compute the readiness of *db* and write it as *output* (.html), .csv, .json.

    Raises:
        BadInput: the extra is missing, or any input is unusable.
    """
    from .report import readiness, write
    from .report._render import EXTRA_HINT

    if _extra_missing():
        raise BadInput(EXTRA_HINT)
    if output.suffix.lower() not in (".html", ".htm"):
        raise BadInput(f"--output must name an .html file (got {str(output)!r})")
    if locale not in locales():
        raise BadInput(f"unknown locale {locale!r}; known: {', '.join(locales())}")
    if termination is not None and rcl is None:
        raise BadInput("--termination needs --rcl: the lists are reconciled together")
    for path in (rcl, termination):
        if path is not None and not path.is_file():
            raise BadInput(f"no such file: {path}")
    if not output.parent.is_dir():
        raise BadInput(f"cannot write {output}: no folder {str(output.parent)!r}")
    with repository(db, every_agency=True) as every:
        repo = every if agency is None else every.scoped(agency)
        if agency is not None and repo.count() == 0:
            raise BadInput(f"no registrations of agency {agency!r} in {db}")
        try:
            found = readiness(
                repo,
                plan_year=plan_year,
                on=on,
                locale=locale,
                rcl=rcl,
                termination=termination,
            )
        except RegflowError as error:
            raise BadInput(str(error)) from None
    try:
        return write(found, output)
    except OSError as error:
        where = error.filename or output
        raise BadInput(f"cannot write {where}: {error.strerror or error}") from None


@click.command()
@db_option
@on_option
@click.option(
    "--plan-year",
    type=click.IntRange(2014, 2100),
    help="The plan year; default the one after --on's year (the coming one).",
)
@click.option("--agency", help="Only this agency's registrations (default: all).")
@click.option(
    "--locale",
    default="en",
    show_default=True,
    help="The language of the report's texts: en or es.",
)
@click.option(
    "--rcl",
    "rcl_path",
    type=click.Path(path_type=Path),
    help="A TBL_RCL_<n>.csv to reconcile against (nothing is recorded).",
)
@click.option(
    "--termination",
    "termination_path",
    type=click.Path(path_type=Path),
    help="An AB_Termination_List_<n>.csv, with --rcl.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file; the CSV and JSON go beside it "
    "[default: regflow-report-<plan year>.html].",
)
def report(
    db: str,
    on: dt.date | None,
    plan_year: int | None,
    agency: str | None,
    locale: str,
    rcl_path: Path | None,
    termination_path: Path | None,
    output: Path | None,
) -> None:
    """Write the readiness report: who can sell for the plan year, who needs action."""
    day = on or dt.date.today()
    year = plan_year or day.year + 1
    paths = write_report(
        db,
        plan_year=year,
        on=day,
        output=output or Path(f"regflow-report-{year}.html"),
        agency=agency,
        locale=locale,
        rcl=rcl_path,
        termination=termination_path,
    )
    _out.print(text(f"wrote {', '.join(str(p) for p in paths)}"))


def demo_report(db: str, output: Path | None, rcl: Path, termination: Path) -> None:
    """The last step of ``regflow demo``: write its report and print the path
    (by default beside the database: ``regflow-demo-report.html``)."""
    from ._demo import DEMO_ON, DEMO_PLAN_YEAR

    if output is None:
        base = Path(db)
        output = base.with_name(f"{base.stem.removesuffix('.sqlite3')}-report.html")

    if _extra_missing():
        from .report._render import EXTRA_HINT

        _out.print(text(f"\nNo report: {EXTRA_HINT}"))
        return
    paths = write_report(
        db,
        plan_year=DEMO_PLAN_YEAR,
        on=DEMO_ON,
        output=output,
        rcl=rcl,
        termination=termination,
    )
    _out.print("\nThe readiness report (what 'regflow report' writes):")
    for path in paths[1:]:
        _out.print(text(f"  {path}"))
    _out.print(text(f"wrote {paths[0]}"))
