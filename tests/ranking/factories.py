"""Factories of the ranking's tenant models, merged into tests.factories.TENANT_FACTORIES."""

from __future__ import annotations

import factory
import numpy as np

from ranking import features
from ranking.models import EmailGuess, IdealCustomerProfile, RankingModel
from tests.factories import LeadFactory, TenantFactory, WorkspaceFactory


class IdealCustomerProfileFactory(TenantFactory):
    class Meta:
        model = IdealCustomerProfile
        # One per workspace (a unique constraint): a second one is the first.
        django_get_or_create = ("workspace",)

    workspace = factory.SubFactory(WorkspaceFactory)
    industries = factory.LazyFunction(lambda: ["Logistics"])
    seniorities = factory.LazyFunction(lambda: ["vp"])


class RankingModelFactory(TenantFactory):
    class Meta:
        model = RankingModel
        # One per workspace (a unique constraint): a second one is the first.
        django_get_or_create = ("workspace",)

    workspace = factory.SubFactory(WorkspaceFactory)
    n_features = features.N_FEATURES
    mean = factory.LazyFunction(lambda: features.prior_mean().tobytes())
    precision = factory.LazyFunction(lambda: np.ones(features.N_FEATURES).tobytes())


class EmailGuessFactory(TenantFactory):
    class Meta:
        model = EmailGuess

    workspace = factory.SubFactory(WorkspaceFactory)
    lead = factory.SubFactory(LeadFactory, workspace=factory.SelfAttribute("..workspace"), email="")
    address = factory.Sequence(lambda n: f"guess.{n}@company.example")
    pattern = "first.last"


RANKING_FACTORIES: dict[type, object] = {
    IdealCustomerProfile: IdealCustomerProfileFactory,
    RankingModel: RankingModelFactory,
    EmailGuess: EmailGuessFactory,
}
