"""Every header value we write goes through `sdr.headers.header_value`, which refuses the
characters that would end the header and start another."""

from __future__ import annotations

import pytest

from sdr.headers import UnsafeHeader, header_value


@pytest.mark.parametrize(
    "value",
    ["a\r\nBcc: x@victim.example", "a\nX: 1", "a\rb", "a\x00b", "a\u2028b", "a\x85b", "a\tb"],
)
def test_a_line_break_nul_or_control_character_is_refused(value):
    with pytest.raises(UnsafeHeader, match="The subject contains a line break"):
        header_value(value, what="The subject")


def test_ordinary_text_is_kept_and_trimmed():
    assert header_value("  Grüße: 40% schneller ", what="x") == "Grüße: 40% schneller"


def test_a_download_name_is_built_through_it(web, workspace):
    from tests.factories import ImportJobFactory

    job = ImportJobFactory(workspace=workspace)
    response = web.get(f"/leads/imports/{job.pk}/rejected.csv")
    assert response["Content-Disposition"] == f'attachment; filename="rejected-rows-{job.pk}.csv"'
