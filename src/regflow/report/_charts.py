"""The report's two charts, drawn by matplotlib as inline SVG.

matplotlib is the ``report`` extra's and imported only here, when a chart is
drawn. The figures are built with the object API on the SVG backend (no
pyplot, no display), text as paths (no font files needed where the HTML is
opened), and with a fixed hash salt and no date in the metadata, so the same
data draws the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import TYPE_CHECKING, Any, Final

import matplotlib

from .._errors import InvalidValue
from ._texts import text

if TYPE_CHECKING:
    from ._data import Readiness

__all__ = ["funnel_svg", "trend_svg"]

_INDIVIDUAL: Final = "#1f5fa8"
_SHOP: Final = "#e08a1e"
_OE: Final = "#b3261e"
# Any: matplotlib types its keys as one Literal of every rcParam.
_RC: Final[Any] = {
    "svg.hashsalt": "regflow-report",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_PROLOGUE: Final = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_UNSAFE: Final = re.compile(r"<script|<foreignObject|\bon[a-z]+\s*=|javascript:", re.I)


def _figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasSVG(figure)
    return figure, figure.add_subplot()


def _svg(figure: Any, title: str) -> str:
    out = io.StringIO()
    # Ids are hashes of the salt and what they name; a salt per chart keeps
    # the two charts' ids apart on one page.
    matplotlib.rcParams["svg.hashsalt"] = f"regflow-report-{title}"
    # No metadata at all: no date to differ between runs, no RDF block.
    none = {"Date": None, "Creator": None, "Format": None, "Type": None}
    figure.savefig(out, format="svg", metadata=none)
    # The XML prologue and doctype belong to a file; inline, the <svg> element.
    drawn = _PROLOGUE.sub("", out.getvalue(), count=1)
    if _UNSAFE.search(drawn):  # matplotlib draws none; the HTML must never run one
        raise InvalidValue("the chart's SVG holds script; refusing to inline it")
    return drawn


def funnel_svg(report: Readiness) -> str:
    """Agents by step, Individual and SHOP side by side, as an SVG element."""

    locale = report.locale
    # Those not taking part (SHOP not chosen, not an agent) are no step of a
    # registration; the page's table counts them, the chart leaves them out.
    steps = [s for s in report.funnel if s.step != "not_taking_part"]
    with matplotlib.rc_context(_RC):
        figure, axes = _figure(7.5, 3.6)
        rows = range(len(steps))
        height = 0.38
        individual = [s.individual for s in steps]
        shop = [s.shop for s in steps]
        bars = axes.barh(
            [r - height / 2 for r in rows],
            individual,
            height,
            color=_INDIVIDUAL,
            label=text("track.individual", locale),
        )
        shops = axes.barh(
            [r + height / 2 for r in rows],
            shop,
            height,
            color=_SHOP,
            label=text("track.shop", locale),
        )
        for drawn in (bars, shops):
            axes.bar_label(drawn, padding=3, fontsize=8)
        axes.set_yticks(list(rows), [s.label for s in steps])
        axes.invert_yaxis()
        axes.set_xlabel(text("chart.agents", locale))
        axes.margins(x=0.12)
        axes.legend(
            loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False
        )
        return _svg(figure, text("heading.funnel", locale))


def trend_svg(report: Readiness) -> str:
    """Certified agents per day, with the report date and Open Enrollment marked."""
    import matplotlib.dates as mdates

    locale = report.locale
    oe = report.open_enrollment
    with matplotlib.rc_context(_RC):
        figure, axes = _figure(7.5, 3.0)
        points = list(report.trend)
        days = [p.day for p in points]
        if points:
            # Each count holds to the end of its day: the last one too.
            days.append(points[-1].day + dt.timedelta(days=1))
            points.append(points[-1])
            for track, color in (("individual", _INDIVIDUAL), ("shop", _SHOP)):
                counts = [getattr(p, track) for p in points]
                axes.step(
                    days,
                    counts,
                    where="post",
                    color=color,
                    linewidth=1.8,
                    label=text(f"track.{track}", locale),
                )
                axes.annotate(
                    str(counts[-1]),
                    xy=(days[-1], counts[-1]),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    color=color,
                    fontsize=8,
                )
            axes.legend(loc="upper left", frameon=False)
        start = days[0] if days else report.on - dt.timedelta(days=14)
        end = max(oe, report.on) + dt.timedelta(days=2)
        axes.set_xlim(start, end)
        axes.set_ylim(0, max([p.individual for p in report.trend] + [1]) * 1.25)
        axes.axvline(oe, color=_OE, linestyle="--", linewidth=1.2)
        axes.annotate(
            text("chart.oe", locale, date=oe.isoformat()),
            xy=(oe, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-4, -4),
            textcoords="offset points",
            ha="right",
            va="top",
            color=_OE,
            fontsize=8,
        )
        if report.on < oe:
            axes.axvline(report.on, color="#666666", linestyle=":", linewidth=1)
            axes.annotate(
                text("chart.on", locale),
                xy=(report.on, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(-4, -4),
                textcoords="offset points",
                ha="right",
                va="top",
                color="#666666",
                fontsize=8,
            )
        axes.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))  # type: ignore[no-untyped-call]
        axes.set_ylabel(text("chart.certified", locale))
        axes.yaxis.get_major_locator().set_params(integer=True)
        return _svg(figure, text("heading.trend", locale))
