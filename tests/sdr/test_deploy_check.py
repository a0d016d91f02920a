"""With the production settings the README documents, Django's deployment check is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_the_documented_production_settings():
    # Not the test session's own switches (the browser tests allow async-unsafe calls).
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-0123456789",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "sdr.example.com",
        "PUBLIC_BASE_URL": "https://sdr.example.com",
        "BEHIND_TLS_PROXY": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "DATABASE_URL": "postgres://sdr_app@127.0.0.1:5432/sdr",
        "DATABASE_CROSS_WORKSPACE_ROLE": "sdr_ops",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_cross_workspace_jobs_have_no_role_of_their_own():
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DATABASE_URL": "postgres://sdr_app@127.0.0.1:5432/sdr",
        "DATABASE_CROSS_WORKSPACE_ROLE": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "sdr.W001" in result.stdout + result.stderr
    assert "DATABASE_CROSS_WORKSPACE_ROLE is not set" in result.stdout + result.stderr
