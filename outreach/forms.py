"""The campaign form: list fields are edited one item per line."""

from __future__ import annotations

from django import forms

from outreach.models import Campaign

LIST_FIELDS = ["value_propositions", "proof_points", "allowed_links"]


class LinesField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class CampaignForm(forms.ModelForm):
    value_propositions = LinesField(required=False, help_text="One per line")
    proof_points = LinesField(required=False, help_text="One per line")
    allowed_links = LinesField(required=False, help_text="Links emails may contain, one per line")

    class Meta:
        model = Campaign
        fields = [
            "name",
            "status",
            "product",
            "value_propositions",
            "proof_points",
            "call_to_action",
            "tone",
            "style_guide",
            "language",
            "allowed_links",
            "sender_name",
            "sender_title",
            "sender_company",
            "autonomy",
            "review_sample_share",
            "max_words_first_touch",
            "max_words_follow_up",
        ]
        widgets = {
            "product": forms.Textarea(attrs={"rows": 2}),
            "style_guide": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_allowed_links(self):
        links = self.cleaned_data["allowed_links"]
        validator = forms.URLField(assume_scheme="https")
        return [validator.clean(link) for link in links]
