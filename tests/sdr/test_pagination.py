"""List pages: a page size out of range is a clear 400, never a quietly different size."""

from __future__ import annotations

import pytest

from tests.factories import LeadFactory


@pytest.mark.parametrize("size", ["0", "501", "5000", "ten", "-1"])
def test_a_page_size_out_of_range_is_a_400_not_a_quiet_other_size(api, size):
    response = api.get("/api/v1/leads/", {"page_size": size})
    assert response.status_code == 400
    assert "from 1 to 500" in response.json()["error"]["details"]["page_size"][0]


def test_the_largest_page_size_is_given(api, workspace):
    LeadFactory(workspace=workspace)
    assert api.get("/api/v1/leads/", {"page_size": "500"}).status_code == 200
