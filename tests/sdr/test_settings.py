"""Configuration: the demo runs on nothing; production refuses to start without secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOAD_SETTINGS = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"  # noqa: E501


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO", "DATABASE", "CELERY", "SECRET", "FIELD_", "ALLOWED", "DEBUG")
        )
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "sdr.settings", **env})
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", LOAD_SETTINGS],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_nothing_set_it_runs_the_demo_on_sqlite_with_eager_tasks():
    result = run_settings({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_a_broker_url_turns_eager_tasks_off():
    result = run_settings({"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "False"


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS", "PUBLIC_BASE_URL"]
)
def test_production_refuses_to_start_without_a_secret(missing):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "FIELD_ENCRYPTION_KEY": "k" * 44,
        "ALLOWED_HOSTS": "sdr.example.com",
        "PUBLIC_BASE_URL": "https://sdr.example.com",
    }
    del env[missing]
    result = run_settings(env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("CELERY_TASK_TIME_LIMIT", "five", "CELERY_TASK_TIME_LIMIT must be a whole number"),
        ("SESSION_COOKIE_AGE", "10", "SESSION_COOKIE_AGE must be at least 60"),
        ("DATABASE_URL", "nosuchdb://x", "nosuchdb"),
    ],
)
def test_a_malformed_value_stops_start_up_with_its_name(name, value, message):
    result = run_settings({name: value})
    assert result.returncode != 0
    assert message in result.stderr


TIMELINE_ON_SQLITE = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from leads.selectors import lead_timeline
from sdr.activity import activity_record
from tests.factories import EnrollmentFactory
enrollment = EnrollmentFactory()
activity_record(workspace=enrollment.workspace, type="enrollment.created",
                object_type="enrollment", object_id=enrollment.pk)
print([entry.label for entry in lead_timeline(lead=enrollment.lead)])
"""


def run_on_demo_sqlite(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`script` in a fresh process on the demo's settings, with a new SQLite file."""
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "CELERY"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sdr.settings", "DATABASE_URL": database},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_demo_s_lead_timeline_shows_what_happened_beyond_the_lead_itself(tmp_path):
    """SQLite casts a UUID column to text without dashes; the timeline once matched the
    related rows' ids that way and showed only the lead's own activities in the demo."""
    result = run_on_demo_sqlite(TIMELINE_ON_SQLITE, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "'Enrolled in a campaign'" in result.stdout.splitlines()[-1]
