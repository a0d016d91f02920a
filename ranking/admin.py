from django.contrib import admin

from leads.admin import WorkspaceAdmin
from ranking.models import EmailGuess, IdealCustomerProfile, RankingModel


@admin.register(IdealCustomerProfile)
class IdealCustomerProfileAdmin(WorkspaceAdmin):
    list_display = ["workspace", "updated_at"]


@admin.register(RankingModel)
class RankingModelAdmin(WorkspaceAdmin):
    list_display = ["workspace", "outcomes_learned", "positives_learned", "updated_at"]
    exclude = ["mean", "precision"]


@admin.register(EmailGuess)
class EmailGuessAdmin(WorkspaceAdmin):
    list_display = ["address", "workspace", "pattern", "mx_found", "verified"]
