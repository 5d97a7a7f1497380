"""The snapshots a store last wrote or read, remembered with their exact text.

Decoding is the expensive part of a load, so each store keeps a small memo:
the same row (text and version) always reads as the same immutable
registration. Writing reuses the encoded fields of the previous snapshot.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final, NamedTuple

from .._registration import Registration
from ._protocol import RegistrationKey

__all__ = ["SnapshotMemo"]

_MEMO_SIZE: Final = 4096


class _Entry(NamedTuple):
    text: str
    reg: Registration
    data: dict[str, str] | None


class SnapshotMemo:
    """The snapshots a store last wrote or read, by key, with their exact text.

    Bounded (least recently used goes first); one per store, used under the
    store's lock.
    """

    def __init__(self, size: int = _MEMO_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[RegistrationKey, _Entry] = OrderedDict()

    def get(self, key: RegistrationKey, text: str, version: int) -> Registration | None:
        """Return the snapshot read from *text* at *version* before, if remembered.

        The text alone does not say the version (an event may change no
        field the text holds), so both must match.
        """
        found = self._items.get(key)
        if found is None or found.text != text or found.reg.version != version:
            return None
        self._items.move_to_end(key)
        return found.reg

    def previous(
        self, key: RegistrationKey, version: int
    ) -> tuple[Registration, dict[str, str]] | None:
        """Return the remembered snapshot at *version* and its encoded parts."""
        found = self._items.get(key)
        if found is None or found.data is None or found.reg.version != version:
            return None
        return found.reg, found.data

    def last(self, key: RegistrationKey) -> Registration | None:
        """Return the snapshot last remembered for *key*, whatever its text."""
        found = self._items.get(key)
        return None if found is None else found.reg

    def put(
        self,
        key: RegistrationKey,
        text: str,
        reg: Registration,
        data: dict[str, str] | None = None,
    ) -> None:
        """Remember that *text* reads as *reg* (and was encoded from *data*)."""
        self._items[key] = _Entry(text, reg, data)
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def forget(self, key: RegistrationKey) -> None:
        """Forget *key*'s snapshot."""
        self._items.pop(key, None)

    def forget_agent(self, agency: str, agent_id: str) -> None:
        """Forget every snapshot of one agent (its contact details were erased)."""
        for key in [
            k for k in self._items if (k.agency, k.agent_id) == (agency, agent_id)
        ]:
            del self._items[key]

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()
