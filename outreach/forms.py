"""The campaign and mailbox forms: list fields are edited one item per line; the rules
are the services' (outreach/campaigns.py, outreach/mailboxes.py), whose errors the views
put back on the form's fields."""

from __future__ import annotations

from typing import Any

from django import forms

from outreach.campaigns import CAMPAIGN_FIELDS
from outreach.mailboxes import MAILBOX_FIELDS, MAX_DAILY_CAP, MAX_MIN_INTERVAL_SECONDS
from outreach.models import Campaign, Mailbox
from sdr.models import Workspace

LIST_FIELDS = ["value_propositions", "proof_points", "allowed_links", "competitors"]
WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


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
    competitors = LinesField(
        required=False, help_text="Names drafts must never mention, one per line"
    )
    mailboxes = forms.ModelMultipleChoiceField(
        queryset=Mailbox.unscoped_objects.none(),  # the workspace's, set in __init__
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Sent from in turn; each thread stays on the mailbox that started it",
    )
    send_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Sending days",
        help_text="In the recipient's time zone",
    )

    class Meta:
        model = Campaign
        # Case studies and example emails are lists of objects: edited through the API.
        fields = [
            *[f for f in CAMPAIGN_FIELDS if f not in {"case_studies", "example_emails"}],
            "mailboxes",
        ]
        widgets = {
            "product": forms.Textarea(attrs={"rows": 2}),
            "style_guide": forms.Textarea(attrs={"rows": 3}),
            "send_window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "send_window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {"pause_colleagues_on_reply": "Pause colleagues when one replies"}
        help_texts = {
            "send_window_start": "Recipient's local time",
            "send_window_end": "Recipient's local time",
            "timezone": "IANA name (Europe/Berlin), for leads without one; blank: the workspace's",
            "recipient_domain_daily_cap": "At most this many emails a day to one company domain",
        }

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mailboxes = self.fields["mailboxes"]
        assert isinstance(mailboxes, forms.ModelMultipleChoiceField)
        mailboxes.queryset = Mailbox.objects.for_workspace(workspace)
        if not self.is_bound:
            # The model's list default (Monday to Friday) does not reach a declared field's
            # checkboxes by itself: without this a new campaign offered no day ticked.
            self.initial.setdefault("send_days", list(self.instance.send_days or []))

    def clean_allowed_links(self) -> list[str]:
        links = self.cleaned_data["allowed_links"]
        validator = forms.URLField(assume_scheme="https")
        return [validator.clean(link) for link in links]


class MailboxForm(forms.ModelForm):
    """Passwords are never shown: left blank on an edit, the stored one is kept."""

    smtp_password = forms.CharField(
        label="SMTP password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    imap_password = forms.CharField(
        label="IMAP password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    daily_cap = forms.IntegerField(min_value=1, max_value=MAX_DAILY_CAP)
    min_interval_seconds = forms.IntegerField(
        min_value=0,
        max_value=MAX_MIN_INTERVAL_SECONDS,
        label="Minimum seconds between sends",
    )

    class Meta:
        model = Mailbox
        fields = MAILBOX_FIELDS
        widgets = {
            "signature": forms.Textarea(attrs={"rows": 3}),
            "postal_address": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "smtp_host": "SMTP server",
            "smtp_port": "SMTP port",
            "smtp_security": "SMTP security",
            "smtp_username": "SMTP username",
            "imap_host": "IMAP server (for replies; optional)",
            "imap_port": "IMAP port",
            "imap_security": "IMAP security",
            "imap_username": "IMAP username",
            "warmup_enabled": "Warm up (ramp the daily volume)",
            "warmup_start": "Warm-up: emails on the first day",
            "warmup_increment": "Warm-up: more each day",
        }
        help_texts = {"timezone": "IANA name, e.g. Europe/Berlin"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("smtp_password", "imap_password"):
                if getattr(self.instance, name):
                    self.fields[name].help_text = "Set; leave blank to keep it"

    def _post_clean(self) -> None:
        # The service checks and saves (hosts vetted, passwords kept): the form only
        # parses. ModelForm's own model validation would write onto the instance early.
        pass

    def service_fields(self) -> dict[str, Any]:
        """The cleaned fields for mailbox_create/mailbox_update; a blank password means
        "keep the stored one"."""
        data = {name: self.cleaned_data[name] for name in MAILBOX_FIELDS}
        for name in ("smtp_password", "imap_password"):
            if not data[name] and self.instance.pk:
                del data[name]
        return data
