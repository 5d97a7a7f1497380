"""Contact details are stored sealed, so that erasing an agent is deleting a key.

Every agent (of an agency) has a random key in the store's keys table. Before
a snapshot or an event is written, the ``contact`` of each profile in it is
encrypted with that key (AES-256-GCM, bound to the agent by its associated
data) and stored as ``{"sealed": "<base64>", "key": "<key id>"}``. Reading
opens it again; once the key is deleted
(:meth:`~regflow.store.Repository.erase`), it reads as erased. Details the
agent enters after an erasure are sealed with a new key, under a new id, so
that the old seals stay erased. This is crypto-shredding: the log stays strictly append-only, its
rows are never rewritten, and no copy of a contact detail is left in the
database's files, its free pages or its write-ahead log, because none was
ever written there in the clear.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .._errors import CorruptRecord
from .._records import ERASED

__all__ = ["Sealer", "new_key"]

_ERASED_CONTACT: Final = {
    "name": ERASED,
    "email": ERASED,
    "phone": ERASED,
    "business_name": None,
    "zip_code": None,
}
_NONCE: Final = 12
_MARK: Final = "sealed"


def new_key() -> tuple[str, bytes]:
    """A new random 256-bit key and a random id for it."""
    return base64.b32encode(os.urandom(10)).decode("ascii"), AESGCM.generate_key(
        bit_length=256
    )


def _profiles(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The profile objects in a snapshot's or an event's JSON data."""
    found = []
    profile = data.get("profile")
    if isinstance(profile, dict):
        found.append(profile)
    return found


class Sealer:
    """Seals and opens the contact details of one agent's JSON data.

    Args:
        key: the agent's key id and key, or ``None`` when it has none (then
            nothing can be sealed, and whatever is sealed reads as erased).
        agency: the agency of the agent the key belongs to; bound into every seal.
        agent_id: the agent the key belongs to; bound into every seal.
        where: names the registration in a :class:`CorruptRecord`.
    """

    __slots__ = ("_aad", "_aead", "_key_id", "_where")

    def __init__(
        self,
        key: tuple[str, bytes] | None,
        agency: str,
        agent_id: str,
        where: Callable[[str], CorruptRecord],
    ) -> None:
        self._key_id: str | None = None if key is None else key[0]
        self._aead: AESGCM | None = None if key is None else AESGCM(key[1])
        self._aad = f"regflow:{agency}:{agent_id}".encode()
        self._where = where

    def seal(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return *data* with every profile's contact sealed (in place)."""
        for profile in _profiles(data):
            contact = profile.get("contact")
            if isinstance(contact, dict) and _MARK not in contact:
                if contact == _ERASED_CONTACT:
                    continue  # nothing left to hide
                if self._aead is None:
                    raise self._where("a contact to seal, but no key to seal it with")
                nonce = os.urandom(_NONCE)
                plain = _encode(contact)
                sealed = self._aead.encrypt(nonce, plain, self._aad)
                profile["contact"] = {
                    _MARK: base64.b64encode(nonce + sealed).decode("ascii"),
                    "key": self._key_id,
                }
        return data

    def open(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return *data* with every sealed contact opened, or erased (in place)."""
        for profile in _profiles(data):
            contact = profile.get("contact")
            if isinstance(contact, dict) and _MARK in contact:
                profile["contact"] = self._open(contact[_MARK], contact.get("key"))
        return data

    def _open(self, text: object, key_id: object) -> dict[str, Any]:
        if self._aead is None or key_id != self._key_id:
            return dict(_ERASED_CONTACT)  # its key was deleted: erased
        try:
            raw = base64.b64decode(str(text), validate=True)
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad)
        except (ValueError, InvalidTag) as exc:
            raise self._where(f"a sealed contact does not open: {exc!r}") from exc
        opened: dict[str, Any] = _decode(plain)
        return opened


def _encode(contact: dict[str, Any]) -> bytes:
    return json.dumps(contact, separators=(",", ":"), ensure_ascii=False).encode()


def _decode(plain: bytes) -> Any:
    return json.loads(plain)
