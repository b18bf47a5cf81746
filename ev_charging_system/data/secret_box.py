"""Authenticated encryption of secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from SECRET_KEY. In development, when it is not set, a key is made once and
kept in the data folder (readable by this user only), so `python main.py` needs no setup;
production start-up refuses to run without SECRET_KEY.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ev_charging_system.business_logic.ports import SealedDataError


class FernetSecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError) as error:
            raise SealedDataError("sealed with another key, or altered") from error


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def development_key(path: Path) -> bytes:
    """The key kept at `path`, made on first use (mode 0600)."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key)
    return key
