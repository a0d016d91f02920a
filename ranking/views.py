"""Web UI of the ranking: the ideal customer profile and what the model has learned."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from leads.models import Lead
from ranking import features, selectors, services
from sdr.errors import AppError
from sdr.http import MemberRequest
from sdr.tenancy import member_required

_TEXT_FIELDS = ("industries", "titles", "departments", "locations", "must_have", "excluded")


@member_required
def profile_edit(request: MemberRequest) -> HttpResponse:
    profile = services.profile_get(workspace=request.workspace)
    errors: list[str] = []
    if request.method == "POST":
        lists: dict[str, object] = {name: request.POST.get(name, "") for name in _TEXT_FIELDS}
        lists["company_sizes"] = request.POST.getlist("company_sizes")
        lists["seniorities"] = request.POST.getlist("seniorities")
        try:
            services.profile_update(workspace=request.workspace, **lists)
        except AppError as error:
            errors.append(error.message)
        else:
            messages.success(request, "Profile saved. Leads are being re-scored.")
            return redirect("ranking-profile")
    context = {
        "profile": profile,
        "errors": errors,
        "status": selectors.model_status(request.workspace),
        "sizes": features.SIZE_CHOICES,
        "seniorities": [c for c in Lead.Seniority.choices if c[0]],
        "text_fields": [(name, ", ".join(getattr(profile, name))) for name in _TEXT_FIELDS],
    }
    return render(request, "ranking/profile.html", context)
