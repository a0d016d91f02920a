"""Encrypted model fields for secrets (mailbox passwords, per-workspace provider keys).

Written here rather than taken from a package: the Django encrypted-field packages on PyPI
are thin, sporadically maintained wrappers over the same `cryptography` Fernet calls, and
none supports key rotation the way MultiFernet does in a few lines.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


@cache
def _fernet(keys: str) -> MultiFernet:
    # FIELD_ENCRYPTION_KEY may list several keys, newest first: values are written with the
    # first and read with any, so a key can be rotated without a flag day.
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from error


def encrypt(plaintext: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY: the key was "
            "changed without keeping the old one in the list."
        ) from None


class Secret(str):
    """A decrypted value whose repr never shows it, so it cannot leak into logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"


class EncryptedTextField(models.TextField):
    """Stores text encrypted with Fernet; the clear value exists only in memory."""

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return Secret(decrypt(value))

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None or value == "":
            return value
        return encrypt(str(value))
