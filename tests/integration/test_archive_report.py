"""playbooks/archive_report.yml with -e archive_report_html=...: the report of a real PostgreSQL archive,
opened in headless Chromium from Debian without network access.

The expected number of points of every chart series is computed here from the rows the test inserted
(``raw_facts`` of test_archive_rollup, plain Python over the stored rows), never taken from the module.
The page's DOM (Chromium's --dump-dom) must hold each series group with that many points, Chromium must
log no console error (network access goes to a closed proxy, so any fetch would be one), and a second run
must leave the three files untouched. The screenshot goes to tests/output/archive_report.png."""
import collections
import csv
import html.parser
import json
import os
import random
import re
import subprocess
import sys
import time

import psycopg
import pytest

from cplane import build  # (tests/controlplane is on sys.path through conftest)
from test_archive_rollup import add_random, argo_archive, expected_concurrency, raw_facts, rollup

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"
INSTALL = os.path.join(REPO, "tests", "tools", "install-chromium.sh")
SCREENSHOT = os.path.join(REPO, "tests", "output", "archive_report.png")
FULL_PAGE = os.path.join(REPO, "tests", "output", "archive_report_full.png")  # every chart, for a person to look at
DB = "argoops_it_archive_report"
SCOPE = ("default", "")
PRICES = dict(price_per_core_hour=0.04, price_per_gib_hour=0.005)
TOP = 10
# A closed port as proxy: anything the page tried to fetch would fail and be logged as a console error.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        proc = subprocess.run(["bash", INSTALL], capture_output=True, text=True, check=False, timeout=900)
        if proc.returncode != 0 or not os.access(CHROMIUM, os.X_OK):
            pytest.fail("Chromium could not be installed by %s (rc=%d): %s" % (
                INSTALL, proc.returncode, (proc.stderr + proc.stdout).strip()[-2000:]))
    return CHROMIUM


@pytest.fixture
def archive(request, postgres, argo_db_tool):
    argo_archive.archive_database(request, DB)
    argo_archive.fake_archived(argo_db_tool, postgres, DB, 1, 16, build.ARGO_VERSION)
    with psycopg.connect(postgres.dsn(DB), autocommit=True) as conn:
        template = argo_archive.argo_template(conn)  # a workflow Argo itself wrote, then only our rows
        conn.execute("DELETE FROM argo_archived_workflows")
        add_random(conn, random.Random(16), 160, template)
    yield dict(args=postgres.connect_params(DB), dsn=postgres.dsn(DB), password=postgres.password)
    argo_archive.drop_database(postgres, DB)


def expected_series(facts):
    """{gid: points} for the charts the playbook must write, from the inserted rows of the default scope."""
    mine = [f for f in facts if f["scope"] == SCOPE]
    days = {f["started"].date() for f in mine}
    phases = {f["key"][3] for f in mine}
    failed_templates = collections.Counter(f["key"][4] for f in mine if f["key"][3] in ("Failed", "Error"))
    unlabelled = failed_templates.pop("none", 0)  # rows without the template label: in a note, not charted
    hours = list(expected_concurrency(mine))
    out = {"series-runs-" + p.lower(): len(days) for p in phases}
    out.update({"series-duration-p50": len(days), "series-duration-p95": len(days),
                "series-failure_rate-failure_rate": len(days),
                "series-concurrency-peak": len(hours), "series-resources-cpu_cores": len(hours),
                "series-resources-memory_gib": len(hours), "series-cost-cost": 2})
    if failed_templates or unlabelled:
        out["series-failing_templates-failures"] = min(TOP, len(failed_templates))
    for chart, width in (("hour_of_day", 24), ("day_of_week", 7)):
        out.update(("series-%s-%s" % (chart, s), width) for s in ("peak", "p95", "avg_cores"))
    return out


class SeriesCounter(html.parser.HTMLParser):
    """Per element id starting with series-: the markers (use) and paths inside it, outside <defs>."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "col", "wbr", "source"}

    def __init__(self):
        super().__init__()
        self.stack, self.counts, self.charts, self.svgs = [], {}, [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._element(tag, attrs)
        if tag not in self.VOID:
            self.stack.append((tag, attrs.get("id")))

    def handle_startendtag(self, tag, attrs):
        self._element(tag, dict(attrs))

    def _element(self, tag, attrs):
        if (attrs.get("id") or "").startswith("series-"):
            self.counts.setdefault(attrs["id"], collections.Counter())
        if (attrs.get("id") or "").startswith("chart-") and tag == "section":
            self.charts.append(attrs["id"][len("chart-"):])
        self.svgs += tag == "svg"
        if any(open_tag == "defs" for open_tag, _ident in self.stack):
            return
        for _open_tag, ident in self.stack:
            if ident in self.counts:
                self.counts[ident][tag] += 1

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def points(self):
        return dict((gid, c["use"] or c["path"]) for gid, c in self.counts.items())


def console_errors(stderr):
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def run_chromium(binary, *args):
    proc = subprocess.run([binary] + CHROMIUM_FLAGS + list(args), capture_output=True, text=True, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def run_playbook(archive, html_path, *, tasks_only=False, **more):
    env = dict(argo_archive._ansible_env(REPO, os.path.dirname(sys.executable)),  # pylint: disable=protected-access
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_PIPELINING="1")  # pipelining: ~0.3 s less per task
    extra = dict(archive_report_db=archive["args"], archive_report_html=html_path, archive_report_prices=PRICES,
                 archive_report_top_failing=TOP, **more)
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
            os.path.join(REPO, "playbooks", "archive_report.yml"), "-e", json.dumps(extra)]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=300)
    seconds = time.monotonic() - started
    assert archive["password"] not in proc.stdout.replace(json.dumps(extra), "") + proc.stderr
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    if tasks_only:
        return tasks
    written = next(t for t in tasks if t["task"]["name"].startswith("Write "))["hosts"]["localhost"]
    return written, seconds


def test_console_error_detection_sees_a_real_error(chromium, tmp_path):
    """The check below must be able to fail: a page that logs an error and fetches a URL is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="http://example.invalid/x.png"><script>console.error("boom")'
                    '</script></body></html>')
    errors = console_errors(run_chromium(chromium, "--dump-dom", str(page)).stderr)
    assert any("boom" in line for line in errors), errors


def test_report_in_a_browser_shows_every_point_of_the_inserted_data(archive, chromium, tmp_path):
    rollup(archive)  # the capacity view reads the rollups
    with psycopg.connect(archive["dsn"]) as conn:
        facts = raw_facts(conn)
    expected = expected_series(facts)
    page = str(tmp_path / "archive.html")

    written, first_seconds = run_playbook(archive, page)
    assert written["changed"] is True and written["html_path"] == page
    assert dict((gid, n) for c in written["charts"] for gid, n in c["series"].items()) == expected

    proc = run_chromium(chromium, "--dump-dom", page)
    assert console_errors(proc.stderr) == [], proc.stderr[-3000:]
    dom = SeriesCounter()
    dom.feed(proc.stdout)
    assert dom.points() == expected
    assert dom.charts == [c["id"] for c in written["charts"]] and dom.svgs == len(dom.charts)
    assert not re.search(r'(src|href)="(https?:)?//', proc.stdout)

    rows = list(csv.DictReader(open(written["csv_path"], encoding="utf-8")))
    assert len(rows) == sum(expected.values())
    runs = collections.Counter((row["x"], row["series"]) for row in rows if row["chart"] == "runs")
    mine = [f for f in facts if f["scope"] == SCOPE]
    assert set(runs.values()) == {1}  # one row per (day, phase)
    for day, phase in runs:
        count = sum(1 for f in mine if f["started"].date().isoformat() == day and f["key"][3] == phase)
        assert [r["y"] for r in rows if r["chart"] == "runs" and r["x"] == day and r["series"] == phase] == [str(count)]
    report = json.load(open(written["json_path"], encoding="utf-8"))
    assert [c["id"] for c in report["charts"]] == dom.charts

    os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
    shot = run_chromium(chromium, "--screenshot=" + SCREENSHOT, "--window-size=1280,2400", page)
    assert console_errors(shot.stderr) == [] and os.path.getsize(SCREENSHOT) > 10000
    run_chromium(chromium, "--screenshot=" + FULL_PAGE, "--window-size=1280,%d" % (500 + 420 * len(dom.charts)), page)

    stamps = dict((p, os.stat(p).st_mtime_ns) for p in (page, written["csv_path"], written["json_path"]))
    again, second_seconds = run_playbook(archive, page)
    assert again["changed"] is False and again["changed_files"] == []
    assert stamps == dict((p, os.stat(p).st_mtime_ns) for p in stamps)
    # Without archive_report_html: the tables as before, no file (one group_by keeps this run short).
    text = run_playbook(archive, "", tasks_only=True, archive_report_group_by=["phase"], archive_report_latest=3)
    printed = next(t for t in text if t["task"]["name"] == "Print the statistics tables")["hosts"]["localhost"]["msg"]
    assert printed[0].startswith("by phase") and any(line.startswith("latest ") for line in printed)
    assert all(not t["task"]["name"].startswith("Write ") or t["hosts"]["localhost"].get("skipped") for t in text)
    sys.stderr.write("[archive_report] %d rows in scope, %d points, html %d bytes, playbook %.1f s / %.1f s\n" % (
        len(mine), sum(expected.values()), written["bytes"]["html"], first_seconds, second_seconds))
