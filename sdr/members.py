"""Who is in a workspace and with what role: invite by email, change a role, remove.

Owners and admins manage members; only owners grant, change or remove the owner role, and
a workspace always keeps one owner (the owners' rows are locked while that is checked, so
two owners demoting each other at once cannot leave none). Each change is in the activity
log. An invitee without an account gets one with no password and an email with a one-time
link to set it (Django's password-reset tokens: they expire and die once the password is
set), sent after the commit.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Membership, Workspace

Role = Membership.Role
logger = logging.getLogger(__name__)


def member_invite(*, workspace: Workspace, email: str, role: str, by: Membership) -> Membership:
    """Add the person with this address (creating their account if they have none) and
    mail them; AppError for a bad address or role, or someone already in. The link is on
    PUBLIC_BASE_URL, never on the request's Host header."""
    address = _address(email)
    _may_grant(by, role)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=address).order_by("pk").first()
        created = user is None
        if user is None:
            user = User(username=address, email=address)
            user.set_unusable_password()
            user.save()
        elif Membership.objects.filter(workspace=workspace, user=user).exists():
            raise AppError(ErrorCode.CONFLICT, f"{address} is already a member.", status_code=409)
        membership = Membership.objects.create(workspace=workspace, user=user, role=role)
        _audit(by, "member.invited", membership, role=role)
        base = settings.PUBLIC_BASE_URL
        link = _password_link(user, base) if created else base + reverse("login")
        transaction.on_commit(lambda: _invitation_send(workspace, by, address, link, created))
    return membership


def member_role_set(*, membership: Membership, role: str, by: Membership) -> Membership:
    _may_change(by, membership)
    _may_grant(by, role)
    with transaction.atomic():
        if membership.role == Role.OWNER and role != Role.OWNER:
            _keep_an_owner(membership)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        _audit(by, "member.role_changed", membership, role=role, before=before)
    return membership


def member_remove(*, membership: Membership, by: Membership) -> None:
    """Take someone out of the workspace; their account stays (they may be in others)."""
    _may_change(by, membership)
    with transaction.atomic():
        if membership.role == Role.OWNER:
            _keep_an_owner(membership)
        _audit(by, "member.removed", membership, role=membership.role)
        membership.delete()


def _address(email: str) -> str:
    address = email.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise AppError(ErrorCode.INVALID, f"{address[:80]!r} is not an email address.") from None
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _may_grant(by: Membership, role: str) -> None:
    if role not in Role.values:
        raise AppError(ErrorCode.INVALID, "Choose owner, admin or member.")
    if not by.can_manage:
        raise AppError(
            ErrorCode.PERMISSION_DENIED, "Only owners and admins manage members.", status_code=403
        )
    if role == Role.OWNER and by.role != Role.OWNER:
        raise AppError(
            ErrorCode.PERMISSION_DENIED, "Only an owner can make someone an owner.", status_code=403
        )


def _may_change(by: Membership, membership: Membership) -> None:
    if not by.can_manage:
        raise AppError(
            ErrorCode.PERMISSION_DENIED, "Only owners and admins manage members.", status_code=403
        )
    if membership.role == Role.OWNER and by.role != Role.OWNER:
        raise AppError(
            ErrorCode.PERMISSION_DENIED, "Only an owner can change an owner.", status_code=403
        )


def _keep_an_owner(leaving: Membership) -> None:
    owners = list(
        Membership.objects.select_for_update()
        .filter(workspace_id=leaving.workspace_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    if owners == [leaving.pk]:
        raise AppError(
            ErrorCode.CONFLICT,
            "A workspace needs an owner: make someone else an owner first.",
            status_code=409,
        )


def _password_link(user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url + reverse("password-set", kwargs={"uidb64": uid, "token": token})


def _invitation_send(
    workspace: Workspace, by: Membership, address: str, link: str, new_account: bool
) -> None:
    inviter = by.user.get_full_name() or by.user.email or by.user.get_username()
    action = "Set your password here to sign in" if new_account else "Sign in here"
    body = (
        f"{inviter} added you to {workspace.name} on AI SDR.\n\n"
        f"{action}: {link}\n\n"
        "If you did not expect this, you can ignore this email."
    )
    try:
        send_mail(
            f"You were added to {workspace.name}", body, settings.DEFAULT_FROM_EMAIL, [address]
        )
    except Exception:  # any mail backend's failure: the membership stands either way
        logger.warning("Could not mail the invitation to %s for %s", address, workspace.slug)


def _audit(by: Membership, type: str, membership: Membership, **payload: str) -> None:
    activity_record(
        workspace=membership.workspace_id,
        type=type,
        object_type="membership",
        object_id=membership.pk,
        payload={"user": membership.user.get_username(), "by": by.user.get_username(), **payload},
    )
