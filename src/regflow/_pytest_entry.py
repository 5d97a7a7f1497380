"""regflow's ``pytest11`` entry point.

Installing regflow must never break a pytest run of an application that
does not use its test kit: the plugin needs hypothesis (the ``test`` extra),
so it is loaded from here only when hypothesis is installed.
"""

from __future__ import annotations

import importlib.util

pytest_plugins = (
    ["regflow.pytest_plugin"] if importlib.util.find_spec("hypothesis") else []
)
