"""Typed reads of the environment that fail loudly.

Settings are the one place configuration enters the process; a malformed value must stop
the process at start-up with a message naming the variable, not surface later as a
confusing error in a request or a worker.
"""

from __future__ import annotations

import os
from typing import overload

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no, got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def require_in_production(name: str, value: str | None, *, debug: bool) -> None:
    """Refuse to start a non-debug process without a secret that has no safe default."""
    if not debug and not value:
        raise ImproperlyConfigured(
            f"{name} is not set. It is required when DEBUG is off; "
            f"set it in the environment (see README, Configuration)."
        )


def env_networks(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of CIDR networks, each checked."""
    import ipaddress

    networks = env_list(name, default)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list networks like 10.0.0.0/8, got {network!r}."
            ) from None
    return networks


def env_json(name: str, default: dict) -> dict:
    """Model prices as JSON: {"model": {"input": usd, "cached_input": usd, "output": usd}}."""
    import json

    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {error}") from None
    if not isinstance(value, dict) or not all(
        isinstance(v, dict) and {"input", "output"} <= set(v) for v in value.values()
    ):
        raise ImproperlyConfigured(
            f'{name} must map model names to {{"input": ..., "output": ...}} prices.'
        )
    return value
