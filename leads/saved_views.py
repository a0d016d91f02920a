"""Saved views of the leads list: a name for a set of filters and a sort, shared with the
workspace. What is kept is re-read through the list's own filter parsing, so a saved view
can never hold what the list would refuse."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import QueryDict

from leads import selectors
from leads.models import SavedView
from sdr.errors import AppError, ErrorCode, InvalidQuery
from sdr.models import Membership, Workspace

MAX_VIEWS = 50
MAX_NAME = 80


def saved_view_create(
    *, workspace: Workspace, by: AbstractBaseUser, name: str, params: QueryDict
) -> SavedView:
    """Keep the list's current filters and sort under `name`; AppError says why not."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise AppError(ErrorCode.INVALID, f"Give the view a name of 1 to {MAX_NAME} characters.")
    query = view_query(params)
    if not query:
        raise AppError(ErrorCode.INVALID, "Choose some filters or a sort first, then save them.")
    views = SavedView.objects.for_workspace(workspace)
    if views.count() >= MAX_VIEWS:
        raise AppError(
            ErrorCode.INVALID, f"A workspace keeps at most {MAX_VIEWS} views; delete one first."
        )
    try:
        with transaction.atomic():
            return SavedView.objects.for_workspace(workspace).create(
                workspace=workspace, name=name, query=query, created_by=by
            )
    except IntegrityError:
        raise AppError(
            ErrorCode.CONFLICT, f"There is already a view called {name}.", status_code=409
        ) from None


def view_query(params: QueryDict) -> str:
    """The filters and sort of `params` as a query string, checked as the list checks
    them (InvalidQuery becomes a plain error); everything else (the page) left out."""
    try:
        selectors.lead_filters(params)
    except InvalidQuery as error:
        raise AppError(ErrorCode.INVALID, f"That view cannot be saved: {error.message}") from None
    kept = [(name, params[name]) for name in selectors.LEAD_FILTERS if params.get(name)]
    sort = params.get("sort", "")
    if sort and sort != "-created" and sort.lstrip("-") in selectors.LEAD_SORTS:
        kept.append(("sort", sort))
    return urlencode(kept)


def safe_query(params: QueryDict) -> str:
    """The filters of `params` that can be carried back to the list, or none."""
    try:
        return view_query(params)
    except AppError:
        return ""


def saved_view_delete(*, view: SavedView, by: Membership) -> None:
    if not (by.can_manage or view.created_by_id == by.user_id):
        raise AppError(
            ErrorCode.PERMISSION_DENIED,
            "Only the person who saved a view, an owner or an admin deletes it.",
            status_code=403,
        )
    view.delete()
