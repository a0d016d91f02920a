"""Telling a workspace's owners that something needs them (an endpoint disabled, sending
paused): an email through Django's mail backend, and an activity the UI shows."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from sdr.activity import activity_record
from sdr.models import Membership, Workspace

logger = logging.getLogger(__name__)


def owners_notify(workspace: Workspace, *, subject: str, body: str) -> int:
    """Mail the owners and admins who have an address; returns how many were mailed.
    A mail failure is logged, not raised: the activity still says it."""
    activity_record(
        workspace=workspace,
        type="workspace.owners_notified",
        object_type="workspace",
        object_id=workspace.pk,
        payload={"subject": subject},
    )
    addresses = sorted(
        {
            address
            for address in Membership.objects.filter(
                workspace=workspace, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
            ).values_list("user__email", flat=True)
            if address
        }
    )
    if not addresses:
        return 0
    try:
        send_mail(f"[{workspace.name}] {subject}", body, settings.DEFAULT_FROM_EMAIL, addresses)
    except Exception:  # any backend's failure; the caller's work is done either way
        logger.warning("Could not mail the owners of %s about: %s", workspace.slug, subject)
        return 0
    return len(addresses)
