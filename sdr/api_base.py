"""DRF base pieces: workspace scoping for queries and references, and the empty-value
rules as the published schema states them (the error shape is in sdr.schema).

There is no base viewset with a full set of operations: each viewset names the operations
it serves (`WorkspaceScoped` + `GenericViewSet` + the mixins or methods it means to have),
so no endpoint exists that nobody designed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from rest_framework import generics, serializers
from rest_framework.relations import ManyRelatedField, RelatedField
from rest_framework.request import Request

from sdr.http import ApiRequest
from sdr.tenancy import TenantModel, TenantQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class EmptyAsNull(serializers.Field):
    """An output field whose empty stored value is given as `null`.

    Blank model fields are stored as `""`, but `""` is not a valid `format: email` or
    `format: uri` string; a client validating against the schema would reject it. The
    field is nullable in the schema, and absent values are null, not empty strings.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        if value in ("", None):
            return None
        return super().to_representation(value)


class NullableEmailField(EmptyAsNull, serializers.EmailField):
    pass


class NullableURLField(EmptyAsNull, serializers.URLField):
    pass


# Model serializer field classes whose schema carries a string format that "" violates.
_NULL_WHEN_EMPTY: dict[type[serializers.Field], type[serializers.Field]] = {
    serializers.EmailField: NullableEmailField,
    serializers.URLField: NullableURLField,
}


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
        for name, field in fields.items():
            relation = field.child_relation if isinstance(field, ManyRelatedField) else field
            if isinstance(relation, RelatedField) and relation.queryset is not None:
                model = relation.queryset.model
                if issubclass(model, TenantModel):
                    relation.queryset = (
                        model.objects.for_workspace(workspace)
                        if workspace is not None
                        else model.unscoped_objects.none()
                    )
            if isinstance(field, serializers.ChoiceField) and field.read_only:
                # DRF drops allow_blank from read-only fields, and with it the schema's ""
                # in the enum; a blank choice (a message not drafted yet) is still "".
                source = field.source if isinstance(field.source, str) else name  # unbound
                model_field = self._model_field(source)
                if model_field is not None and model_field.blank:
                    field.allow_blank = True
        return fields

    def _model_field(self, source: str) -> Any:
        model = cast(type[models.Model], self.Meta.model)
        try:
            return model._meta.get_field(source)
        except FieldDoesNotExist:
            return None

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict]:
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        # Output only: an input that sends null for these would not be a blank value.
        read_only = field_name in getattr(self.Meta, "read_only_fields", ())
        replacement = _NULL_WHEN_EMPTY.get(field_class)
        if replacement is not None and read_only and model_field.blank:
            field_class = replacement
        return field_class, field_kwargs


class WorkspaceScoped(generics.GenericAPIView):
    """Scopes a DRF generic view to one TenantModel of `request.workspace`.

    Subclasses set `model`, and narrow or annotate the queryset in `scope_queryset`; they
    do not override `get_queryset`, which is where scoping happens.
    """

    model: type[TenantModel]
    # HasWorkspace, the default permission, has set the workspace (see sdr.http). Declared
    # here, on a GenericAPIView subclass, so it is a legal narrowing of APIView.request.
    request: ApiRequest

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request
            return self.model.unscoped_objects.none()
        return self.scope_queryset(self.model.objects.for_workspace(self.request.workspace))

    def scope_queryset(self, queryset: TenantQuerySet) -> QuerySet:
        return queryset

    @classmethod
    def tenant_kwargs(cls) -> dict[str, Any]:
        return {cls.lookup_url_kwarg or cls.lookup_field: cls.model}


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


def person(request: Request) -> User | None:
    """The signed-in person behind a request, or None for an API key (it acts for the
    workspace, not for someone)."""
    from django.contrib.auth import get_user_model

    return request.user if isinstance(request.user, get_user_model()) else None


def can_manage(request: ApiRequest) -> bool:
    """Owners and admins, and API keys with the `admin` scope."""
    from sdr.models import Membership, WorkspaceAPIKey

    if isinstance(request.auth, WorkspaceAPIKey):
        return WorkspaceAPIKey.Scope.ADMIN in (request.auth.scopes or [])
    user = person(request)
    return (
        user is not None
        and Membership.objects.filter(
            workspace=request.workspace,
            user=user,
            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
        ).exists()
    )
