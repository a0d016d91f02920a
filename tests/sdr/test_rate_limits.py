"""Rate limits: API requests per key, invalid keys per address, sign-ins per account and
per address; 429 with Retry-After, and a lockout that says when to try again."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from sdr import services
from sdr.ratelimit import Limit, blocked, take
from tests.factories import WorkspaceFactory


def test_a_bucket_gives_its_burst_then_refuses_with_the_wait_then_refills(db):
    limit = Limit(capacity=3, per_second=0.5)
    assert [take("k", limit, now=100).allowed for _ in range(3)] == [True, True, True]
    refused = take("k", limit, now=100)
    assert (refused.allowed, refused.retry_after) == (False, 2)
    assert not blocked("k", limit, now=101).allowed
    assert take("k", limit, now=102).allowed  # one token back after 2 s
    assert not take("k", limit, now=102).allowed
    assert take("k", limit, now=200).allowed  # refilled, never above capacity:
    assert take("k", limit, now=200).allowed
    assert take("k", limit, now=200).allowed
    assert not take("k", limit, now=200).allowed
    assert take("other", limit, now=200).allowed


@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_never_exceed_the_bucket():
    limit = Limit(capacity=10, per_second=0.0001)
    allowed: list[bool] = []
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        try:
            for _ in range(5):
                allowed.append(take("shared", limit).allowed)
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert allowed.count(True) == 10
    assert len(allowed) == 40


def test_an_api_key_past_its_burst_gets_429_with_retry_after(api, workspace, web, settings):
    settings.API_RATE_BURST = 3
    settings.API_RATE_PER_MINUTE = 6
    for _ in range(3):
        assert api.get("/api/v1/leads/").status_code == 200
    refused = api.get("/api/v1/leads/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) == 10
    # Another key of the same workspace has its own bucket; the web UI is not counted.
    _, other_key = services.api_key_create(workspace=workspace, name="Other")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    assert other.get("/api/v1/leads/").status_code == 200
    assert all(web.get("/api/v1/leads/").status_code == 200 for _ in range(5))


def test_guessing_api_keys_is_locked_out_before_any_key_is_checked(db, settings, api_key):
    settings.API_AUTH_FAILURES_BURST = 5
    WorkspaceFactory()
    guesser = APIClient(REMOTE_ADDR="203.0.113.7")
    codes = []
    for n in range(8):
        guesser.credentials(HTTP_AUTHORIZATION=f"Api-Key guess{n}.secret{n}")
        codes.append(guesser.get("/api/v1/leads/").status_code)
    assert codes == [401] * 5 + [429] * 3
    # While locked out, even the right key gets no answer from this address...
    guesser.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    locked = guesser.get("/api/v1/leads/")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) >= 1
    # ...while the key's owner, elsewhere, is not affected.
    owner = APIClient(REMOTE_ADDR="198.51.100.20")
    owner.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    assert owner.get("/api/v1/leads/").status_code == 200


def _sign_in(client, username, password, address="192.0.2.10"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_lock_the_account_and_the_form_says_when_to_retry(
    client, user_factory, settings
):
    user = user_factory(username="dana")
    user.set_password("right-password")
    user.save()
    for _ in range(settings.SIGN_IN_FAILURES_PER_ACCOUNT):
        assert _sign_in(client, "dana", "wrong").status_code == 200
    locked = _sign_in(client, "dana", "right-password")
    assert locked.status_code == 429
    assert "Try again in 3 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # From another address too: the account is what is locked.
    assert _sign_in(client, "Dana", "right-password", address="192.0.2.99").status_code == 429


def test_one_address_trying_many_accounts_is_locked_out(client, user_factory, settings):
    settings.SIGN_IN_FAILURES_PER_ADDRESS = 4
    user = user_factory(username="robin")
    user.set_password("right-password")
    user.save()
    for n in range(4):
        _sign_in(client, f"user{n}", "wrong")
    assert _sign_in(client, "robin", "right-password").status_code == 429
    assert _sign_in(client, "robin", "right-password", address="192.0.2.50").status_code == 302


def test_a_successful_sign_in_forgives_the_accounts_earlier_failures(
    client, user_factory, settings
):
    user = user_factory(username="kim")
    user.set_password("right-password")
    user.save()
    for _ in range(settings.SIGN_IN_FAILURES_PER_ACCOUNT - 1):
        _sign_in(client, "kim", "wrong", address="192.0.2.1")
    assert _sign_in(client, "kim", "right-password", address="192.0.2.1").status_code == 302
    client.logout()
    for _ in range(settings.SIGN_IN_FAILURES_PER_ACCOUNT - 1):
        _sign_in(client, "kim", "wrong", address="192.0.2.2")
    assert _sign_in(client, "kim", "right-password", address="192.0.2.2").status_code == 302


def test_the_buckets_table_writes_no_wal_so_a_request_never_waits_for_the_disk(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'sdr_ratebucket'")
        assert cursor.fetchone() == ("u",)  # UNLOGGED
