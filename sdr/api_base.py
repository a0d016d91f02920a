"""DRF base classes that scope every query and every reference to the request's workspace."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets
from rest_framework.relations import ManyRelatedField, RelatedField

from sdr.tenancy import TenantModel, TenantQuerySet


class WorkspaceSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose related fields accept only rows of the request's workspace.

    Without this, DRF builds related-field querysets from the default manager, so a
    payload could point a lead at another tenant's company by id.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields.pop("workspace", None)
        request = self.context.get("request")
        workspace = getattr(request, "workspace", None)
        for field in fields.values():
            relation = field.child_relation if isinstance(field, ManyRelatedField) else field
            if isinstance(relation, RelatedField) and relation.queryset is not None:
                model = relation.queryset.model
                if issubclass(model, TenantModel):
                    relation.queryset = (
                        model.objects.for_workspace(workspace)
                        if workspace is not None
                        else model.unscoped_objects.none()
                    )
        return fields


class WorkspaceScoped:
    """Scopes a DRF generic view to one TenantModel of `request.workspace`.

    Subclasses set `model`, and narrow or annotate the queryset in `scope_queryset`; they
    do not override `get_queryset`, which is where scoping happens.
    """

    model: type[TenantModel]

    def get_queryset(self) -> TenantQuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request
            return self.model.unscoped_objects.none()
        return self.scope_queryset(self.model.objects.for_workspace(self.request.workspace))

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(workspace=self.request.workspace)

    @classmethod
    def tenant_kwargs(cls) -> dict[str, Any]:
        return {cls.lookup_url_kwarg or cls.lookup_field: cls.model}


class WorkspaceViewSet(WorkspaceScoped, viewsets.ModelViewSet):
    pass


class WorkspaceReadOnlyViewSet(WorkspaceScoped, viewsets.ReadOnlyModelViewSet):
    pass


def validated(
    serializer_class: type[serializers.Serializer],
    data: Any,
    *,
    partial: bool = False,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate an input serializer; errors become the project's 400 error shape."""
    serializer = serializer_class(data=data, partial=partial, context=context or {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def person(request: Any) -> Any:
    """The signed-in person behind a request, or None for an API key (it acts for the
    workspace, not for someone)."""
    from django.contrib.auth import get_user_model

    return request.user if isinstance(request.user, get_user_model()) else None


def can_manage(request: Any) -> bool:
    """Owners and admins, and API keys (created by them, acting for the workspace)."""
    from sdr.models import Membership, WorkspaceAPIKey

    if isinstance(request.auth, WorkspaceAPIKey):
        return True
    user = person(request)
    return (
        user is not None
        and Membership.objects.filter(
            workspace=request.workspace,
            user=user,
            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
        ).exists()
    )
