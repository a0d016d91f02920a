"""Tags: a team's own labels on leads, put on and taken off many at a time from the list.

A tag is created the first time it is used and kept while any lead wears it; names are
compared without regard to case, so "Warm intro" and "warm intro" are one tag.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from leads.models import LeadTag, Tag
from sdr.activity import Event, activities_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace

MAX_TAG_LENGTH = Tag.MAX_NAME
MAX_TAGS = 500


def tag_name_clean(raw: str) -> str:
    """A tag name as stored: NFC, one space between words, no control or format characters
    (a right-to-left override would make a tag read as another); AppError if nothing
    usable is left or it is too long."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = " ".join(text.split())
    if not name:
        raise AppError(ErrorCode.INVALID, "Give the tag a name.")
    if len(name) > MAX_TAG_LENGTH:
        raise AppError(
            ErrorCode.INVALID,
            f"A tag is at most {MAX_TAG_LENGTH} characters; this one has {len(name)}.",
        )
    return name


def tag_for(*, workspace: Workspace, name: str) -> Tag:
    """The workspace's tag called `name` (any case), created if it is new."""
    tags = Tag.objects.for_workspace(workspace)
    existing = tags.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    if tags.count() >= MAX_TAGS:
        raise AppError(
            ErrorCode.INVALID,
            f"A workspace keeps at most {MAX_TAGS} tags; remove one from every lead first.",
        )
    try:
        with transaction.atomic():
            return tags.create(workspace=workspace, name=name)
    except IntegrityError:  # created by someone else between the look and the insert
        return tags.get(name__iexact=name)


def leads_tag(*, workspace: Workspace, lead_ids: Sequence[uuid.UUID], name: str) -> int:
    """Put the tag on the leads that do not wear it yet; returns how many got it."""
    tag = tag_for(workspace=workspace, name=tag_name_clean(name))
    with transaction.atomic():
        wearing = set(
            LeadTag.objects.for_workspace(workspace)
            .filter(tag=tag, lead_id__in=lead_ids)
            .values_list("lead_id", flat=True)
        )
        new = [lead_id for lead_id in lead_ids if lead_id not in wearing]
        LeadTag.objects.for_workspace(workspace).bulk_create(
            [LeadTag(workspace=workspace, lead_id=lead_id, tag=tag) for lead_id in new],
            batch_size=1000,
            ignore_conflicts=True,  # tagged by a concurrent request: tagged all the same
        )
        _record(workspace, "lead.tagged", new, tag)
    return len(new)


def leads_untag(*, workspace: Workspace, lead_ids: Sequence[uuid.UUID], name: str) -> int:
    """Take the tag off the leads; returns how many wore it. A tag no lead wears any more
    is deleted, so the filter lists only tags in use."""
    tag = Tag.objects.for_workspace(workspace).filter(name__iexact=tag_name_clean(name)).first()
    if tag is None:
        return 0
    with transaction.atomic():
        worn = LeadTag.objects.for_workspace(workspace).filter(tag=tag, lead_id__in=lead_ids)
        removed = list(worn.values_list("lead_id", flat=True))
        worn.delete()
        _record(workspace, "lead.untagged", removed, tag)
        _delete_unused(workspace, [tag])
    return len(removed)


MAX_TAGS_A_CALL = 50


def lead_tags_change(
    *, workspace: Workspace, lead_id: uuid.UUID, add: Sequence[str], remove: Sequence[str]
) -> None:
    """Put the `add` tags on one lead and take the `remove` ones off, in one transaction
    and a fixed number of statements, however many tags; AppError, and nothing changed,
    for a bad name, a name in both lists, or more new tags than the workspace may keep."""
    adding = list(dict.fromkeys(tag_name_clean(name) for name in add))
    removing = list(dict.fromkeys(tag_name_clean(name) for name in remove))
    both = {name.casefold() for name in adding} & {name.casefold() for name in removing}
    if both:
        raise AppError(
            ErrorCode.INVALID,
            f"A tag cannot be both added and removed: {', '.join(sorted(both))}.",
        )
    if len(adding) + len(removing) > MAX_TAGS_A_CALL:
        raise AppError(ErrorCode.INVALID, f"At most {MAX_TAGS_A_CALL} tags a call.")
    with transaction.atomic():
        tags = _tags_named(workspace, adding, create=True)
        tags |= _tags_named(workspace, removing, create=False)
        worn = LeadTag.objects.for_workspace(workspace).filter(lead_id=lead_id)
        wearing = set(worn.filter(tag__in=tags.values()).values_list("tag_id", flat=True))
        put_on = _distinct(tags[name] for name in adding if tags[name].pk not in wearing)
        take_off = _distinct(
            tags[name] for name in removing if name in tags and tags[name].pk in wearing
        )
        LeadTag.objects.for_workspace(workspace).bulk_create(
            [LeadTag(workspace=workspace, lead_id=lead_id, tag=tag) for tag in put_on],
            ignore_conflicts=True,  # tagged by a concurrent request: tagged all the same
        )
        worn.filter(tag__in=take_off).delete()
        activities_record(
            workspace=workspace,
            events=[
                *(Event("lead.tagged", "lead", lead_id, {"tag": tag.name}) for tag in put_on),
                *(Event("lead.untagged", "lead", lead_id, {"tag": tag.name}) for tag in take_off),
            ],
        )
        _delete_unused(workspace, take_off)


def _tags_named(workspace: Workspace, names: Sequence[str], *, create: bool) -> dict[str, Tag]:
    """The workspace's tags by the names given (any case); with `create`, those it lacks
    are made first, within the workspace's bound on tags."""
    if not names:
        return {}
    tags = Tag.objects.for_workspace(workspace)
    any_case = Q()
    for name in names:
        any_case |= Q(name__iexact=name)
    found = {tag.name.upper(): tag for tag in tags.filter(any_case)}
    missing = [name for name in names if name.upper() not in found]
    if create and missing:
        if tags.count() + len(missing) > MAX_TAGS:
            raise AppError(
                ErrorCode.INVALID,
                f"A workspace keeps at most {MAX_TAGS} tags; remove one from every lead first.",
            )
        # Conflicts ignored: a tag another request made meanwhile is simply read back.
        tags.bulk_create(
            [Tag(workspace=workspace, name=name) for name in missing], ignore_conflicts=True
        )
        found = {tag.name.upper(): tag for tag in tags.filter(any_case)}
    named = {name: found[name.upper()] for name in names if name.upper() in found}
    if create:
        # Python's and the database's case folding differ for a few letters: such a name
        # is looked up and made on its own, as the list's Tag action does.
        named |= {
            name: tag_for(workspace=workspace, name=name) for name in names if name not in named
        }
    return named


def _distinct(tags: Iterable[Tag]) -> list[Tag]:
    # "VIP" and "vip" given together are one tag.
    return list({tag.pk: tag for tag in tags}.values())


def _delete_unused(workspace: Workspace, tags: Sequence[Tag]) -> None:
    """Delete those of `tags` no lead wears any more, so the filter lists only tags in use."""
    if tags:
        Tag.objects.for_workspace(workspace).filter(pk__in=[tag.pk for tag in tags]).exclude(
            Exists(LeadTag.objects.for_workspace(workspace).filter(tag=OuterRef("pk")))
        ).delete()


def tag_filter(workspace: Workspace, name: str) -> Exists:
    """Leads wearing the tag called `name` (any case)."""
    worn = LeadTag.objects.for_workspace(workspace).filter(
        lead=OuterRef("pk"), tag__name__iexact=name
    )
    return Exists(worn)


def tag_choices(workspace: Workspace) -> QuerySet[Tag]:
    return Tag.objects.for_workspace(workspace).order_by("name")


def _record(workspace: Workspace, activity: str, lead_ids: Sequence[uuid.UUID], tag: Tag) -> None:
    activities_record(
        workspace=workspace,
        events=[Event(activity, "lead", lead_id, {"tag": tag.name}) for lead_id in lead_ids],
    )
