"""The campaign form: list fields are edited one item per line."""

from __future__ import annotations

from typing import Any

from django import forms

from outreach.campaigns import CAMPAIGN_FIELDS
from outreach.models import Campaign

LIST_FIELDS = ["value_propositions", "proof_points", "allowed_links"]


class LinesField(forms.Field):
    """A list of strings, one per line of a textarea. A plain Field, not a CharField: its
    value is a list, and none of CharField's options (lengths, strip) were used."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class CampaignForm(forms.ModelForm):
    value_propositions = LinesField(required=False, help_text="One per line")
    proof_points = LinesField(required=False, help_text="One per line")
    allowed_links = LinesField(required=False, help_text="Links emails may contain, one per line")

    class Meta:
        model = Campaign
        # Case studies and example emails are lists of objects: edited through the API.
        fields = [f for f in CAMPAIGN_FIELDS if f not in {"case_studies", "example_emails"}]
        widgets = {
            "product": forms.Textarea(attrs={"rows": 2}),
            "style_guide": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_allowed_links(self) -> list[str]:
        links = self.cleaned_data["allowed_links"]
        validator = forms.URLField(assume_scheme="https")
        return [validator.clean(link) for link in links]
