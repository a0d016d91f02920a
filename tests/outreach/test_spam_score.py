"""An outside judge: real messages, built exactly as they are sent (outreach/mime.py), scored
by SpamAssassin's local rules (Debian's `spamassassin`, `-L`: no network tests). Every one
stays under 1.0, far below the 5.0 at which SpamAssassin calls a message spam: a score that
creeps up means something in the headers, the footer or the wording started to look like
bulk mail, and the test names the rules that fired."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from outreach.mime import outgoing_build
from outreach.models import Campaign, Message, SequenceStep
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    SequenceStepFactory,
)

SPAMASSASSIN = shutil.which("spamassassin")
pytestmark = pytest.mark.skipif(
    SPAMASSASSIN is None,
    reason="Debian's spamassassin is not installed (apt-get install -y spamassassin; "
    ".ci/run installs it)",
)
LIMIT = 1.0
SENT_AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)

FIRST_TOUCH = (
    "Hi Dana,\n\n"
    "I saw that Acme opened a second warehouse in Leeds in October. Picking usually becomes "
    "the bottleneck when a site doubles its order lines.\n\n"
    "We build pallet-picking robots for sites like yours; Northgate Foods cut picking labour "
    "by 40% within a quarter of going live.\n\n"
    "Worth a 15-minute call next week?"
)
FOLLOW_UP = (
    "Hi Dana,\n\n"
    "A quick follow-up on my note about the Leeds site. If peak season is when picking "
    "hurts most, I can send the two-page summary of how Northgate planned their roll-out.\n\n"
    "Would that be useful?"
)


def score(data: bytes, home: str) -> tuple[float, str]:
    """SpamAssassin's score for a message, and the rules that fired."""
    result = subprocess.run(  # noqa: S603
        [str(SPAMASSASSIN), "-L", "-t"],
        input=data,
        capture_output=True,
        timeout=120,
        env={"HOME": home, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    output = result.stdout.decode("utf-8", "replace")
    status = re.search(
        r"^X-Spam-Status: \w+, score=(-?[\d.]+) .*?tests=(.*?)(?:autolearn|version)",
        output,
        re.MULTILINE | re.DOTALL,
    )
    assert status, f"no X-Spam-Status in SpamAssassin's output:\n{output}\n{result.stderr!r}"
    return float(status.group(1)), " ".join(status.group(2).split())


@pytest.fixture
def thread(workspace, settings):
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"
    mailbox = MailboxFactory(
        workspace=workspace,
        from_name="Sam Seller",
        from_email="sam@pickwell.example",
        signature="Sam Seller\nHead of Sales, Pickwell",
    )
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    first_step = SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    second_step = SequenceStepFactory(
        workspace=workspace, campaign=campaign, order=2, kind=SequenceStep.Kind.FOLLOW_UP
    )
    lead = LeadFactory(workspace=workspace, email="dana@acme.example", first_name="Dana")
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)
    first = MessageFactory(
        workspace=workspace,
        enrollment=enrollment,
        step=first_step,
        status=Message.Status.SENDING,
        mailbox=mailbox,
        to_email=lead.email,
        subject="Picking at the new Leeds site",
        body=FIRST_TOUCH,
    )
    second = MessageFactory(
        workspace=workspace,
        enrollment=enrollment,
        step=second_step,
        status=Message.Status.SENDING,
        mailbox=mailbox,
        to_email=lead.email,
        subject="",
        body=FOLLOW_UP,
    )
    return mailbox, first, second


def test_a_first_touch_and_its_follow_up_score_well_under_the_limit(thread, tmp_path):
    mailbox, first, second = thread
    outgoing = outgoing_build(message=first, mailbox=mailbox, recipient=first.to_email, now=SENT_AT)
    # The first went out: the follow-up threads under it, as the sender builds it.
    Message.unscoped_objects.filter(pk=first.pk).update(
        status=Message.Status.SENT, message_id_header=outgoing.message_id, sent_at=SENT_AT
    )
    follow_up = outgoing_build(
        message=second,
        mailbox=mailbox,
        recipient=second.to_email,
        now=SENT_AT.replace(day=10),
    )
    assert follow_up.subject == "Re: Picking at the new Leeds site"

    for name, built in [("first touch", outgoing), ("follow-up", follow_up)]:
        points, rules = score(built.data, str(tmp_path))
        assert points < LIMIT, f"the {name} scored {points} (rules: {rules})"


def test_a_dkim_signed_message_scores_well_under_the_limit(thread, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    mailbox, first, _ = thread
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    mailbox.dkim_selector = "mail2026"
    mailbox.dkim_private_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    built = outgoing_build(message=first, mailbox=mailbox, recipient=first.to_email, now=SENT_AT)
    assert built.data.startswith(b"DKIM-Signature:")

    points, rules = score(built.data, str(tmp_path))
    assert points < LIMIT, f"the signed first touch scored {points} (rules: {rules})"
