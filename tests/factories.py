"""factory_boy factories. `TENANT_FACTORIES` must name one for every TenantModel: the
isolation test creates a row of each in another workspace and probes every route with it."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from sdr.models import Membership, Workspace, WorkspaceAPIKey


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


def api_key_factory(*, workspace: Workspace, name: str = "key") -> WorkspaceAPIKey:
    api_key, _ = WorkspaceAPIKey.objects.create_key(workspace=workspace, name=name)
    return api_key


# Model -> callable(workspace=...) making one row of it in that workspace.
TENANT_FACTORIES: dict[type, object] = {
    WorkspaceAPIKey: api_key_factory,
}
