"""A workspace's own settings: its name, the sending defaults every campaign falls back on
(time zone, holidays), and the model endpoint, key and model names for customers who
bring their own provider.

Owners and admins change them. Every change is in the activity log with the names of the
fields that changed, never a key. The key is write-only: pages show whether one is set.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.db import transaction

from sdr.activity import activity_record
from sdr.models import Membership, Workspace
from sdr.netguard import AddressRefused, vet_host

MAX_HOLIDAYS = 400
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}$")
PURPOSE_LABELS = {
    "drafting": "Drafting emails",
    "checking": "Checking drafts",
    "classification": "Reading replies",
}


class SettingsInvalid(Exception):
    """The form's problems, by field, in plain words."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class SettingsInput:
    name: str
    timezone: str
    holidays: str
    llm_base_url: str
    llm_api_key: str  # empty: keep the key there is
    llm_api_key_remove: bool
    llm_models: dict[str, str]

    @classmethod
    def from_post(cls, data: Any) -> SettingsInput:
        return cls(
            name=str(data.get("name", "")),
            timezone=str(data.get("timezone", "")),
            holidays=str(data.get("holidays", "")),
            llm_base_url=str(data.get("llm_base_url", "")),
            llm_api_key=str(data.get("llm_api_key", "")),
            llm_api_key_remove=bool(data.get("llm_api_key_remove")),
            llm_models={p: str(data.get(f"model_{p}", "")) for p in PURPOSE_LABELS},
        )


def workspace_settings_update(
    *, workspace: Workspace, by: Membership, given: SettingsInput
) -> list[str]:
    """Check everything, then save it all or nothing; the names of the fields that
    changed. SettingsInvalid says what is wrong with each field that is."""
    if not by.can_manage:
        raise SettingsInvalid({"role": "Only owners and admins change the workspace's settings."})
    problems: dict[str, str] = {}
    values = {
        "name": _checked(problems, "name", _name, given.name),
        "timezone": _checked(problems, "timezone", _timezone, given.timezone),
        "holidays": _checked(problems, "holidays", _holidays, given.holidays),
        "llm_base_url": _checked(problems, "llm_base_url", _base_url, given.llm_base_url),
        "llm_models": _checked(problems, "llm_models", _models, given.llm_models),
    }
    key = given.llm_api_key.strip()
    if any(ch in key for ch in "\r\n\x00 ") or len(key) > 500:
        problems["llm_api_key"] = "Paste the key alone: no spaces or line breaks, at most 500."
    if problems:
        raise SettingsInvalid(problems)
    if given.llm_api_key_remove:
        values["llm_api_key"] = ""
    elif key:
        values["llm_api_key"] = key
    with transaction.atomic():
        # NO KEY: every row written in the workspace commits with KEY SHARE on it.
        locked = Workspace.objects.select_for_update(no_key=True).get(pk=workspace.pk)
        changed = [name for name, value in values.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, values[name])
        if changed:
            locked.save(update_fields=changed)
            activity_record(
                workspace=locked,
                type="workspace.settings_changed",
                object_type="workspace",
                object_id=locked.pk,
                # Names only: a key's value never reaches the log or the change feed.
                payload={"fields": changed, "by": by.user.get_username()},
            )
    for name in changed:
        setattr(workspace, name, values[name])
    return changed


def settings_form(workspace: Workspace, posted: Any = None) -> dict[str, Any]:
    """What the settings page shows: what was posted (to fix it) or what is saved."""

    def shown(name: str, saved: Any) -> Any:
        return posted.get(name, "") if posted is not None else saved

    return {
        "values": {
            "name": shown("name", workspace.name),
            "timezone": shown("timezone", workspace.timezone),
            "holidays": shown("holidays", "\n".join(workspace.holidays or [])),
            "llm_base_url": shown("llm_base_url", workspace.llm_base_url),
        },
        "purposes": [
            {
                "key": key,
                "label": label,
                "value": shown(f"model_{key}", (workspace.llm_models or {}).get(key, "")),
                "default": settings.LLM_MODELS.get(key, ""),
            }
            for key, label in PURPOSE_LABELS.items()
        ],
        "key_set": bool(workspace.llm_api_key),
        "zones": timezone_choices(),
        "offline": not (workspace.llm_base_url or settings.LLM_BASE_URL),
    }


def _checked(problems: dict[str, str], field: str, check: Any, value: Any) -> Any:
    try:
        return check(value)
    except ValueError as error:
        problems[field] = str(error)
        return None


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name or len(name) > 120 or any(ord(ch) < 32 for ch in name):
        raise ValueError("Give the workspace a name of 1 to 120 characters.")
    return name


def _timezone(value: str) -> str:
    name = value.strip()
    if name not in _zones():
        raise ValueError(
            f"{name or 'An empty name'} is not a time zone; pick one such as Europe/Berlin."
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name} is not a time zone on this server.") from None
    return name


def _zones() -> set[str]:
    return available_timezones() | {"UTC"}


def timezone_choices() -> list[str]:
    return sorted(_zones())


def _holidays(value: str) -> list[str]:
    days = set()
    for raw in re.split(r"[\s,;]+", value.strip()):
        if not raw:
            continue
        try:
            days.add(date.fromisoformat(raw).isoformat())
        except ValueError:
            raise ValueError(f"{raw[:40]} is not a date: write dates as 2026-12-25.") from None
    if len(days) > MAX_HOLIDAYS:
        raise ValueError(f"At most {MAX_HOLIDAYS} holidays.")
    return sorted(days)


def _base_url(value: str) -> str:
    url = value.strip()
    if not url:
        return ""  # the product's own endpoint
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise ValueError("Give an https URL with a host name, such as https://api.openai.com/v1.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("Give the endpoint alone: no credentials, query or fragment in the URL.")
    allowed = settings.LLM_ALLOWED_NETWORKS
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = ipaddress.ip_address(vet_host(parts.hostname, port, allowed_networks=allowed))
    except (AddressRefused, ValueError) as error:
        raise ValueError(f"We cannot call that endpoint: {error}") from None
    # The key travels with every call: plain http only inside a network the operator named
    # (a model server next to the product), never across the internet.
    inside = any(address in ipaddress.ip_network(n, strict=False) for n in allowed)
    if parts.scheme == "http" and not inside:
        raise ValueError("Use https: over plain http the key could be read on its way.")
    return url


def _models(value: dict[str, str]) -> dict[str, str]:
    models = {}
    for purpose, raw in value.items():
        name = raw.strip()
        if not name:
            continue  # the product's default for this purpose
        if purpose not in PURPOSE_LABELS or not MODEL_NAME.match(name):
            raise ValueError(f"{name[:40]} is not a model name (letters, digits, . _ : / - @).")
        models[purpose] = name
    return models
