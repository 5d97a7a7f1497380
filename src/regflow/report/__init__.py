"""The readiness report: how many agents can sell for a plan year, and who
needs action, as data, JSON, CSV and one self-contained HTML page::

    from regflow.report import readiness, write

    found = readiness(repo, plan_year=2024, on=date(2023, 10, 20))
    print(found.certified, "of", found.agents)
    write(found, "readiness-2024.html")  # and .csv, .json beside it

:func:`readiness` and the JSON and CSV forms need nothing beyond regflow;
the HTML (Jinja2, and matplotlib for its charts) is the ``report`` extra:
``pip install 'regflow[report]'``.
"""

from __future__ import annotations

from .._public import publish as _publish
from ._actions import ActionGroup, ActionItem, AuditedList
from ._data import (
    STEPS,
    FunnelStep,
    Readiness,
    TrendPoint,
    open_enrollment,
    readiness,
)
from ._render import to_csv, to_dict, to_html, to_json, write

__all__ = [
    "STEPS",
    "ActionGroup",
    "ActionItem",
    "AuditedList",
    "FunnelStep",
    "Readiness",
    "TrendPoint",
    "open_enrollment",
    "readiness",
    "to_csv",
    "to_dict",
    "to_html",
    "to_json",
    "write",
]

_publish(globals(), __name__, __all__)
