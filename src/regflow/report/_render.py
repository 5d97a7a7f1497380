"""The readiness report as JSON, CSV and one self-contained HTML file.

JSON goes through regflow's converter, like every other regflow form. CSV
is one table of rows tagged by section, with the CSV safety of the
``reconcile --csv`` output (every cell quoted, no cell a spreadsheet runs as
a formula). HTML is rendered by Jinja2 with autoescaping on, so every
value from the store or a list is escaped; the only markup let through
unescaped is the charts' SVG, and only after matplotlib drew it and it was
checked to hold no script. Nothing in the page loads anything: no script,
no stylesheet, font or image from elsewhere, so it opens from a mail
attachment.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Final

from .._converter import converter
from .._errors import InvalidValue
from .._reports import JSONObject
from .._reports import _cell as _safe_cell
from ._data import Readiness
from ._texts import text

__all__ = ["EXTRA_HINT", "to_csv", "to_dict", "to_html", "to_json", "write"]

EXTRA_HINT: Final = "the HTML report needs its extra: pip install 'regflow[report]'"
CSV_COLUMNS: Final = (
    "section",
    "item",
    "track",
    "value",
    "agency_id",
    "agent_id",
    "npn",
    "reason",
    "code",
    "detail",
    "next_step",
    "due",
    "business_days_late",
    "link",
)


def to_dict(report: Readiness) -> JSONObject:
    """The report as JSON-ready data (dates ISO, enums their values)."""
    data: JSONObject = converter.unstructure(report)
    data["scope"] = report.scope
    return data


def to_json(report: Readiness) -> str:
    """The report as JSON text."""
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def _rows(report: Readiness) -> Iterator[dict[str, object]]:
    for name, value in (
        ("plan_year", report.plan_year),
        ("scope", report.scope),
        ("on", report.on.isoformat()),
        ("agents", report.agents),
        ("certified", report.certified),
        ("needing_action", report.needing_action),
        ("open_enrollment", report.open_enrollment.isoformat()),
        ("business_days_left", report.business_days_left),
    ):
        yield {"section": "summary", "item": name, "value": value}
    for step in report.funnel:
        for track, count in (("individual", step.individual), ("shop", step.shop)):
            yield {
                "section": "funnel",
                "item": step.step,
                "track": track,
                "value": count,
            }
    for point in report.trend:
        for track, count in (("individual", point.individual), ("shop", point.shop)):
            yield {
                "section": "trend",
                "item": point.day.isoformat(),
                "track": track,
                "value": count,
            }
    for group in report.actions:
        for item in group.items:
            yield {
                "section": "action",
                "item": group.title,
                "track": item.track.value if item.track is not None else "",
                "agency_id": item.agency_id,
                "agent_id": item.agent_id,
                "npn": item.npn,
                "reason": group.reason,
                "code": group.code,
                "detail": item.detail,
                "next_step": item.next_step,
                "due": item.due.isoformat() if item.due is not None else None,
                "business_days_late": item.business_days_late,
                "link": item.mailto,
            }
    for listed in report.lists:
        yield {
            "section": "list",
            "item": listed.file,
            "track": listed.kind,
            "value": listed.read,
            "detail": (
                f"kept={listed.kept}; skipped={listed.skipped}; "
                f"ignored={listed.ignored}; modified={listed.modified.isoformat()}; "
                f"sha256={listed.sha256}"
            ),
        }


def to_csv(report: Readiness) -> str:
    """The report as CSV: one row per summary value, funnel cell, trend
    point, agent needing action and list file, tagged by ``section``."""
    out = io.StringIO()
    # As reconcile --csv: every cell quoted (a bare CR would end a row) and
    # "\n" line ends, which a text-mode file on Windows turns into "\r\n".
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for row in _rows(report):
        writer.writerow([_safe_cell(row.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()


PAGE_ROWS: Final = 200
"""The most agents a group of the HTML page lists; the CSV and JSON list all.

A page of 50,000 agents is 15 MB, too much for the mail attachment it is
meant to be, and nobody reads past the first screens of a group."""


def to_html(report: Readiness) -> str:
    """The report as one HTML page with its charts inline.

    Each group of who needs action lists its first :data:`PAGE_ROWS` agents
    and says how many more the CSV and JSON hold.

    Raises:
        InvalidValue: Jinja2 or matplotlib (the ``report`` extra) is missing.
    """
    try:
        import jinja2
        import markupsafe
        from matplotlib.backends import backend_svg  # noqa: F401
    except ImportError:
        raise InvalidValue(EXTRA_HINT) from None
    from ._charts import funnel_svg, trend_svg

    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    source = files("regflow.report").joinpath("report.html.j2").read_text("utf-8")
    template = env.from_string(source)
    locale = report.locale

    def t(code: str, **params: object) -> str:
        return text(code, locale, **params)

    return template.render(
        r=report,
        t=t,
        # Drawn by matplotlib from numbers and our own words, then checked
        # for script by _charts; nothing else is marked safe.
        funnel_chart=markupsafe.Markup(funnel_svg(report)),
        trend_chart=markupsafe.Markup(trend_svg(report)),
        page_rows=PAGE_ROWS,
        show_agency=report.every_agency
        and any(i.agency_id for g in report.actions for i in g.items),
    )


def write(report: Readiness, html: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """Write the report as *html* and, beside it, the same stem ``.csv`` and ``.json``.

    All three are rendered first, then each is written to a temporary file
    in the same folder and renamed over its name: a failure leaves no file
    half-written.

    Returns:
        The paths of the HTML, CSV and JSON files.

    Raises:
        InvalidValue: the ``report`` extra is missing.
        OSError: the folder cannot be written, or a name is a folder.
    """
    target = Path(html)
    paths = (target, target.with_suffix(".csv"), target.with_suffix(".json"))
    for path in paths:
        if path.is_dir():  # os.replace would fail after the others were renamed
            raise IsADirectoryError(21, "it is a folder", str(path))
    contents = (to_html(report), to_csv(report), to_json(report))
    temporary: list[Path] = []
    try:
        for path, content in zip(paths, contents, strict=True):
            fd, name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
            )
            temporary.append(Path(name))
            os.chmod(name, 0o644)  # mkstemp makes it private; a report is shared
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(content)
        for made, path in zip(temporary, paths, strict=True):
            os.replace(made, path)
    finally:
        for made in temporary:
            made.unlink(missing_ok=True)
    return paths
