"""The ranking's state per workspace: the ideal customer profile, the learned model, and
guessed email addresses (never written into Lead.email: a guess is not an address)."""

from __future__ import annotations

from django.db import models

from sdr.tenancy import TenantModel


class IdealCustomerProfile(TenantModel):
    """Who the workspace wants to reach: the prior the ranking starts from."""

    industries = models.JSONField(default=list, blank=True)
    # Size bands as the features name them ("11-50", "51-200", ...; see ranking.features).
    company_sizes = models.JSONField(default=list, blank=True)
    seniorities = models.JSONField(default=list, blank=True)
    titles = models.JSONField(default=list, blank=True, help_text="words a title contains")
    departments = models.JSONField(default=list, blank=True)
    locations = models.JSONField(default=list, blank=True, help_text="countries or places")
    must_have = models.JSONField(default=list, blank=True)
    excluded = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="icp_one_per_workspace"),
        ]

    def __str__(self) -> str:
        return f"Ideal customer profile ({self.workspace_id})"


class RankingModel(TenantModel):
    """A diagonal Gaussian posterior over hashed feature weights (see ranking.bayes)."""

    n_features = models.PositiveIntegerField()
    # float64 arrays, `numpy.ndarray.tobytes()`: 2 x 8 bytes x n_features.
    mean = models.BinaryField()
    precision = models.BinaryField()
    outcomes_learned = models.PositiveIntegerField(default=0)
    positives_learned = models.PositiveIntegerField(default=0)
    # The outcomes already learned from end here (created_at, id): each is learned once.
    learned_until = models.DateTimeField(null=True, blank=True)
    learned_until_id = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="rankingmodel_one_per_workspace"),
        ]

    def __str__(self) -> str:
        return f"Ranking model ({self.outcomes_learned} outcomes)"


class EmailGuess(TenantModel):
    """An address inferred for a lead without one: unverified until someone confirms it."""

    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254)
    pattern = models.CharField(max_length=20)
    mx_found = models.BooleanField(default=False)
    verified = models.BooleanField(default=False)
    based_on = models.PositiveIntegerField(default=0, help_text="known addresses that agree")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.address} (unverified)" if not self.verified else self.address
