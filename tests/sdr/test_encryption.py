"""Secrets are encrypted at rest and never shown in clear in reprs or logs."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from sdr.fields import _fernet
from sdr.models import Workspace


def raw_llm_key(workspace: Workspace) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT llm_api_key FROM sdr_workspace WHERE id = %s", [workspace.pk])
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def _fresh_fernet_cache():
    _fernet.cache_clear()
    yield
    _fernet.cache_clear()


def test_a_secret_is_stored_encrypted_and_read_back_in_clear(workspace):
    workspace.llm_api_key = "sk-live-very-secret"
    workspace.save()

    assert "sk-live-very-secret" not in raw_llm_key(workspace)
    assert Workspace.objects.get(pk=workspace.pk).llm_api_key == "sk-live-very-secret"


def test_a_decrypted_secret_never_shows_in_its_repr(workspace):
    workspace.llm_api_key = "sk-live-very-secret"
    workspace.save()
    loaded = Workspace.objects.get(pk=workspace.pk)

    assert "sk-live" not in repr(loaded.llm_api_key)
    assert "sk-live" not in repr(vars(loaded))


def test_keys_rotate_without_losing_old_secrets(workspace, settings):
    old_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old_key
    workspace.llm_api_key = "sk-old"
    workspace.save()

    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old_key}"
    assert Workspace.objects.get(pk=workspace.pk).llm_api_key == "sk-old"


def test_losing_the_key_is_a_clear_configuration_error(workspace, settings):
    workspace.llm_api_key = "sk-old"
    workspace.save()
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()

    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Workspace.objects.get(pk=workspace.pk)


def test_a_malformed_key_is_a_clear_configuration_error(workspace, settings):
    settings.FIELD_ENCRYPTION_KEY = "not-a-fernet-key"
    workspace.llm_api_key = "sk"
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        workspace.save()
