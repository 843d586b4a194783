"""Capacity view: figures recomputed by hand from a small series."""
import datetime

import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import archive_capacity as c
from ansible_collections.argoops.workflows.plugins.module_utils.archive_sql import QueryError

MONDAY = datetime.datetime(2024, 5, 6, 9)  # a Monday, 09:00 UTC


def test_percentile_matches_percentile_cont():
    assert c.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert c.percentile([10], 0.95) == 10
    assert c.percentile([0, 10, 20, 30, 40], 0.95) == pytest.approx(38.0)
    assert c.percentile([], 0.5) == 0.0


def test_capacity_profiles_baseline_burst_and_cost():
    rows = [(MONDAY, 2, 7200.0, 36864.0, 3),  # 2 cores, 36864 * 100Mi-s = 1 GiB for the hour
            (MONDAY + datetime.timedelta(hours=1), 10, 3600.0, 0.0, 12),
            (MONDAY + datetime.timedelta(days=1), 4, 0.0, 0.0, 4)]
    view = c.capacity(rows, price_per_core_hour=0.5, price_per_gib_hour=0.25)
    assert view["peak_concurrency"] == 10 and view["p95_concurrency"] == pytest.approx(9.4)
    assert view["suggested"] == dict(baseline=4, burst=6, burst_to_peak=6)
    assert view["core_hours"] == 3.0 and view["gib_hours"] == 1.0
    assert view["cost"] == dict(cpu=1.5, memory=0.25, total=1.75)
    nine = view["by_hour_of_day"][9]
    assert nine == dict(key=9, hours=2, peak_concurrency=4, p95_concurrency=3.9, avg_cores=1.0, avg_memory_gib=0.5)
    monday, tuesday = view["by_day_of_week"][0], view["by_day_of_week"][1]
    assert (monday["key"], monday["hours"], monday["peak_concurrency"]) == ("Mon", 2, 10)
    assert (tuesday["hours"], tuesday["peak_concurrency"]) == (1, 4)
    assert [s["runs"] for s in view["series"]] == [3, 12, 4]
    assert view["first_hour"] == "2024-05-06T09:00:00Z"


def test_no_price_no_cost_and_empty_series():
    view = c.capacity([])
    assert view["cost"] is None and view["peak_concurrency"] == 0 and view["suggested"]["baseline"] == 0


@pytest.mark.parametrize("value", [0, -1.5, float("nan"), float("inf"), True, "3"])
def test_bad_prices_name_the_option(value):
    with pytest.raises(QueryError, match="price_per_core_hour: .* is not a positive number"):
        c.check_price(value, "price_per_core_hour")
