"""archive_report: the model (every figure recomputed here from the inputs), the three outputs, the SVG
(series groups counted in the XML), and the file handling (idempotence, check mode, errors first)."""
import csv
import datetime
import io
import json
import os
import random
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.argoops.workflows.plugins.module_utils import archive_capacity
from ansible_collections.argoops.workflows.plugins.module_utils import archive_report as r
from ansible_collections.argoops.workflows.plugins.module_utils import archive_report_svg as svg

pytestmark = pytest.mark.skipif(not svg.HAS_MATPLOTLIB, reason="matplotlib is a dev requirement")


def stat(key, count, p50=10.0, p95=20.0):
    return dict(key=key, count=count, duration_seconds=dict(avg=p50, p50=p50, p95=p95, max=p95 * 2))


def dataset(seed=3):
    """Random per-phase counts over 6 days, one phase missing on some days; per_day totals from them."""
    rng = random.Random(seed)
    days = ["2024-05-%02d" % d for d in (1, 2, 3, 5, 8, 9)]
    by_phase = {}
    for phase in r.PHASES:
        by_phase[phase] = [stat(d, rng.randrange(1, 30)) for d in days if rng.random() < 0.7]
    totals = dict((d, sum(s["count"] for p in r.PHASES for s in by_phase[p] if s["key"] == d)) for d in days)
    per_day = [stat(d, totals[d], rng.randrange(1, 99), rng.randrange(100, 999)) for d in days if totals[d]]
    return per_day, by_phase


def capacity_view(hours=30, prices=(0.04, 0.005)):
    rng = random.Random(hours)
    start = datetime.datetime(2024, 5, 6)
    rows = [(start + datetime.timedelta(hours=3 * i), rng.randrange(1, 12), rng.randrange(0, 40000) * 1.0,
             rng.randrange(0, 90000) * 1.0, rng.randrange(1, 20)) for i in range(hours)]
    return archive_capacity.capacity(rows, *prices)


def by_id(report, chart_id):
    return next(c for c in report["charts"] if c["id"] == chart_id)


def test_runs_duration_and_failure_rate_recomputed():
    per_day, by_phase = dataset()
    report = r.build_report(per_day, by_phase)
    days = [s["key"] for s in per_day]
    runs = by_id(report, "runs")
    assert runs["x"] == days
    for line in runs["series"]:
        counts = dict((s["key"], s["count"]) for s in by_phase[line["name"]])
        assert line["y"] == [counts.get(d, 0) for d in days]
        assert line["gid"] == "series-runs-" + line["name"].lower()
    assert [sum(col) for col in zip(*[line["y"] for line in runs["series"]])] == [s["count"] for s in per_day]
    duration = by_id(report, "duration")
    assert [line["y"] for line in duration["series"]] == [[s["duration_seconds"]["p50"] for s in per_day],
                                                          [s["duration_seconds"]["p95"] for s in per_day]]
    rate = by_id(report, "failure_rate")["series"][0]["y"]
    for day, total, value in zip(days, [s["count"] for s in per_day], rate):
        failed = sum(s["count"] for p in ("Failed", "Error") for s in by_phase[p] if s["key"] == day)
        assert value == pytest.approx(100.0 * failed / total, abs=1e-3)
    assert [c["id"] for c in report["charts"]] == ["runs", "duration", "failure_rate"]  # nothing else was given


def test_without_phases_only_the_duration_chart():
    per_day = dataset()[0]
    assert [c["id"] for c in r.build_report(per_day)["charts"]] == ["duration"]


def test_top_failing_templates_order_limit_and_unlabelled_note():
    failing = [stat("etl", 5), stat("build", 9), stat(None, 4), stat("lint", 5), stat("docs", 1), stat("idle", 0)]
    item = by_id(r.build_report([], failing=failing, top=3), "failing_templates")
    assert item["x"] == ["build", "etl", "lint"] and item["series"][0]["y"] == [9, 5, 5]
    assert "4 failed workflows carry no template label" in item["note"] and "1 more templates" in item["note"]
    assert all(c["id"] != "failing_templates" for c in r.build_report([], failing=[stat("x", 0)])["charts"])


def test_capacity_charts_follow_the_view():
    view = capacity_view()
    report = r.build_report([], capacity=view)
    concurrency = by_id(report, "concurrency")
    assert concurrency["series"][0]["y"] == [s["peak_concurrency"] for s in view["series"]]
    assert [line["y"] for line in concurrency["lines"]] == [
        view["suggested"]["baseline"], view["suggested"]["baseline"] + view["suggested"]["burst"]]
    assert len(by_id(report, "hour_of_day")["x"]) == 24 and by_id(report, "day_of_week")["x"][0] == "Mon"
    assert by_id(report, "cost")["series"][0]["y"] == [view["cost"]["cpu"], view["cost"]["memory"]]
    without_prices = r.build_report([], capacity=capacity_view(prices=(None, None)))
    assert "cost" not in [c["id"] for c in without_prices["charts"]]
    summary = dict((row["name"], row["value"]) for row in report["summary"])
    assert summary["suggested baseline"] == view["suggested"]["baseline"]
    assert summary["cost total"] == view["cost"]["total"]


def test_csv_and_json_hold_exactly_the_plotted_points():
    per_day, by_phase = dataset()
    report = r.build_report(per_day, by_phase, [stat("etl", 3)], capacity_view())
    rows = list(csv.reader(io.StringIO(r.to_csv(report))))
    assert rows[0] == ["chart", "series", "x", "y"]
    assert len(rows) - 1 == sum(len(s["y"]) for c in report["charts"] for s in c["series"])
    assert json.loads(r.to_json(report)) == json.loads(json.dumps(report))
    first = by_id(report, "runs")
    assert rows[1] == ["runs", first["series"][0]["name"], first["x"][0], str(first["series"][0]["y"][0])]


@pytest.mark.parametrize("call, message", [
    (lambda: r.build_report({"key": 1}), "stats_by_day: must be a list"),
    (lambda: r.build_report([{"count": 1}]), r"stats_by_day\[0\]: must be a dict with key, count"),
    (lambda: r.build_report([dict(key="d", count="3", duration_seconds={})]), r"stats_by_day\[0\].count: '3'"),
    (lambda: r.build_report([dict(key="d", count=3)]), r"stats_by_day\[0\].duration_seconds: missing"),
    (lambda: r.build_report([], {"Running": []}), "stats_by_day_and_phase: 'Running' is not a phase"),
    (lambda: r.build_report([], capacity={"series": []}), "capacity: missing 'by_hour_of_day'"),
    (lambda: r.build_report([], top=0), "top_failing: 0 is not a positive whole number"),
    (lambda: r.build_report([], latest=["x"]), "latest: must be a list of workflows"),
])
def test_bad_input_names_the_option(call, message):
    with pytest.raises(r.ReportError, match=message):
        call()


def series_points(root, gid):
    """Points of the series group ``gid``: its markers (use) for a line, its bars (path) for bars."""
    groups = [e for e in root.iter() if e.get("id") == gid]
    assert len(groups) == 1, (gid, len(groups))
    uses = [e for e in groups[0].iter() if e.tag.endswith("use")]
    if uses:
        return len(uses)
    return len([e for e in groups[0].iter() if e.tag.endswith("path")])


def test_svg_has_one_group_per_series_with_one_element_per_point():
    per_day, by_phase = dataset()
    report = r.build_report(per_day, by_phase, [stat("etl", 3), stat("build", 4)], capacity_view())
    for item in report["charts"]:
        root = ET.fromstring(svg.render(item))
        for line in item["series"]:
            assert series_points(root, line["gid"]) == len(item["x"]), (item["id"], line["name"])
    concurrency = next(c for c in report["charts"] if c["id"] == "concurrency")
    group = next(e for e in ET.fromstring(svg.render(concurrency)).iter() if e.get("id") == "series-concurrency-peak")
    line = next(e for e in group if e.tag.endswith("path"))
    assert line.get("d").count("M") == len(concurrency["x"])  # hours 3 h apart: no segment joins two of them


def test_page_is_self_contained_deterministic_and_ids_unique():
    per_day, by_phase = dataset()
    report = r.build_report(per_day, by_phase, [stat("etl", 3)], capacity_view(), {"per phase": per_day},
                            [dict(name="wf-<1>", namespace="ci", phase="Failed", started_at="a", finished_at="b",
                                  duration_seconds=1.5)])
    page = r.to_html(report, svg.render_all(report))
    assert page == r.to_html(report, svg.render_all(report))
    for needle in ("http:", "https:", "<script", "<link", "<img", "@import", "Date"):
        assert needle not in page, needle
    assert "wf-&lt;1&gt;" in page
    # The page is HTML, not XML; ids are checked per SVG: unique within it and across the charts.
    seen = set()
    for item in report["charts"]:
        chart_ids = [e.get("id") for e in ET.fromstring(svg.render(item)).iter() if e.get("id")]
        assert len(chart_ids) == len(set(chart_ids))
        assert not seen & set(chart_ids), item["id"]
        seen |= set(chart_ids)


def test_publish_writes_once_then_reports_no_change(tmp_path):
    per_day, by_phase = dataset()
    report = r.build_report(per_day, by_phase)
    page = str(tmp_path / "report.html")
    check = r.publish(page, report, check_mode=True)
    assert check["changed"] is True and len(check["changed_files"]) == 3 and os.listdir(str(tmp_path)) == []
    first = r.publish(page, report)
    assert first["changed"] is True
    assert sorted(os.listdir(str(tmp_path))) == ["report.csv", "report.html", "report.json"]
    assert first["bytes"]["html"] == os.path.getsize(page)
    stamps = dict((n, os.stat(str(tmp_path / n)).st_mtime_ns) for n in os.listdir(str(tmp_path)))
    again = r.publish(page, report)
    assert again["changed"] is False and again["changed_files"] == []
    assert stamps == dict((n, os.stat(str(tmp_path / n)).st_mtime_ns) for n in os.listdir(str(tmp_path)))
    (tmp_path / "report.csv").write_text("edited")
    repaired = r.publish(page, report)
    assert repaired["changed_files"] == [str(tmp_path / "report.csv")]
    assert (tmp_path / "report.csv").read_text() == r.to_csv(report)


def test_changed_data_changes_all_files_and_diff_shows_the_json(tmp_path):
    per_day, by_phase = dataset()
    page = str(tmp_path / "r.html")
    r.publish(page, r.build_report(per_day, by_phase))
    per_day[0] = dict(per_day[0], duration_seconds=dict(per_day[0]["duration_seconds"], p95=12345.0))
    result = r.publish(page, r.build_report(per_day, by_phase), check_mode=True, diff=True)
    assert sorted(result["changed_files"]) == sorted(str(tmp_path / n) for n in ("r.html", "r.json", "r.csv"))
    assert "12345" in result["diff"]["after"] and "12345" not in result["diff"]["before"]


@pytest.mark.parametrize("name, message", [("missing/r.html", "directory .* does not exist"),
                                           ("r.txt", ".* must end with .html")])
def test_bad_destination_fails_before_writing(tmp_path, name, message):
    with pytest.raises(r.ReportError, match="path: " + message):
        r.publish(str(tmp_path / name), r.build_report([]))
    assert os.listdir(str(tmp_path)) == []


def test_export_paths_sit_next_to_the_page():
    assert r.export_paths("/x/a.b.html") == dict(html="/x/a.b.html", csv="/x/a.b.csv", json="/x/a.b.json")
