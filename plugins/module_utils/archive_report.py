# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The archive report: archive_info results -> chart series -> a self-contained HTML page (inline SVG
charts, no script, no external URL) plus CSV and JSON exports of exactly the plotted points.

Why this shape:
- ``build_report`` is pure and holds every number the page shows; the SVG (archive_report_svg, the only
  part that needs matplotlib), the CSV and the JSON are all made from it, so the exports are the chart
  data point for point.
- Nothing time-dependent goes into the files (no "generated at"): the same archive_info results give the
  same bytes, so a re-run reports no change and leaves the files alone.
- A series is one list of (x, y) points; in the SVG each series is one group whose id is its ``gid``
  (``series-<chart>-<series>``), with one marker (``use``) per point for lines and one ``path`` per bar.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import html
import io
import json
import os
import re
import tempfile

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError
from ansible_collections.argoops.workflows.plugins.module_utils import archive_report_svg

PHASES = ("Succeeded", "Failed", "Error")
FAILED_PHASES = ("Failed", "Error")
DEFAULT_TITLE = "Argo workflow archive"


class ReportError(ArgoopsError, ValueError):
    """Bad report input or an unusable destination; the message names the option and the rule."""


def slug(text):
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "x"


def series(chart_id, name, kind, ys, axis="left"):
    """``axis`` right: on the chart's second y axis (another unit, ``y2_label``)."""
    return dict(name=name, gid="series-%s-%s" % (chart_id, slug(name)), kind=kind, y=list(ys), axis=axis)


def chart(chart_id, title, x, x_label, y_label, kind, series_list, x_type="category", lines=(), note=None,
          y2_label=None):
    """``kind`` says how the SVG draws it (bar, stacked, barh, line); ``x_type`` category, day or hour;
    ``lines`` are reference lines (name, y) that are not data points (baseline, burst)."""
    return dict(id=chart_id, title=title, x=list(x), x_label=x_label, y_label=y_label, y2_label=y2_label, kind=kind,
                x_type=x_type, series=series_list, lines=[dict(name=n, y=y) for n, y in lines], note=note)


# ---- input checks (the module's options are lists/dicts of what archive_info returned) ----

def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportError("%s: %r is not a number" % (where, value))
    return value


def check_stats(value, option):
    """archive_info ``stats`` (key, count, duration_seconds.p50/p95) -> the same list, or ReportError."""
    if not isinstance(value, list):
        raise ReportError("%s: must be a list (the stats of an archive_info result), got %s"
                          % (option, type(value).__name__))
    for index, item in enumerate(value):
        where = "%s[%d]" % (option, index)
        if not isinstance(item, dict) or "key" not in item or "count" not in item:
            raise ReportError("%s: must be a dict with key, count and duration_seconds as archive_info returns "
                              "in stats (got %r)" % (where, item))
        _number(item["count"], where + ".count")
        durations = item.get("duration_seconds")
        if not isinstance(durations, dict):
            raise ReportError("%s.duration_seconds: missing or not a dict (archive_info stats have avg, p50, p95, "
                              "max)" % where)
        for name in ("avg", "p50", "p95", "max"):
            if name in durations:
                _number(durations[name], "%s.duration_seconds.%s" % (where, name))
    return value


def check_by_phase(value, option):
    if not isinstance(value, dict):
        raise ReportError("%s: must be a dict of phase -> archive_info stats grouped by day" % option)
    for phase, stats in value.items():
        if phase not in PHASES:
            raise ReportError("%s: %r is not a phase of archived workflows (%s)" % (option, phase, ", ".join(PHASES)))
        check_stats(stats, "%s.%s" % (option, phase))
    return value


def check_capacity(value, option="capacity"):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ReportError("%s: must be the capacity dict of archive_info (capacity=true)" % option)
    for key in ("series", "by_hour_of_day", "by_day_of_week", "suggested"):
        if key not in value:
            raise ReportError("%s: missing %r; pass the capacity of an archive_info result with capacity=true"
                              % (option, key))
    return value


def check_workflows(value, option):
    if not isinstance(value, list) or not all(isinstance(w, dict) for w in value):
        raise ReportError("%s: must be a list of workflows as archive_info returns in workflows" % option)
    return value


# ---- the report model ----

def _counts(stats):
    return dict((s["key"], s["count"]) for s in stats)


def run_charts(per_day, by_phase):
    """Runs per day by phase, p50/p95 per day, failure rate per day (days = the keys of ``per_day``)."""
    days = [s["key"] for s in per_day if s["key"] is not None]
    charts = []
    phases = [p for p in PHASES if p in by_phase and any(s["count"] for s in by_phase[p])]
    if phases:
        charts.append(chart("runs", "Runs per day by phase", days, "day (UTC)", "workflows", "stacked",
                            [series("runs", p, "bar", [_counts(by_phase[p]).get(d, 0) for d in days])
                             for p in phases], x_type="day"))
    stats = dict((s["key"], s["duration_seconds"]) for s in per_day)
    charts.append(chart("duration", "Duration per day, median and 95th percentile", days, "day (UTC)", "seconds",
                        "line", [series("duration", "p50", "line", [stats[d]["p50"] for d in days]),
                                 series("duration", "p95", "line", [stats[d]["p95"] for d in days])], x_type="day"))
    if phases:
        total = _counts(per_day)
        failed = [sum(_counts(by_phase.get(p, [])).get(d, 0) for p in FAILED_PHASES) for d in days]
        rates = [round(100.0 * f / total[d], 3) if total[d] else 0.0 for f, d in zip(failed, days)]
        charts.append(chart("failure_rate", "Failure rate per day (Failed + Error)", days, "day (UTC)",
                            "% of workflows", "line", [series("failure_rate", "failure rate", "line", rates)],
                            x_type="day"))
    return charts


def failing_chart(failing, top):
    """The ``top`` templates with most failed workflows; workflows without the label are counted apart."""
    named = sorted((s for s in failing if s["key"] is not None and s["count"]), key=lambda s: (-s["count"], s["key"]))
    unlabelled = sum(s["count"] for s in failing if s["key"] is None)
    if not named and not unlabelled:
        return None
    chosen = named[:top]
    note = None
    if unlabelled:
        note = "%d failed workflows carry no template label and are not shown." % unlabelled
    if len(named) > top:
        note = ((note + " ") if note else "") + "%d more templates with failures are not shown." % (len(named) - top)
    return chart("failing_templates", "Top failing templates", [s["key"] for s in chosen], "failed workflows",
                 "template", "barh", [series("failing_templates", "failures", "bar", [s["count"] for s in chosen])],
                 note=note)


def capacity_charts(view):
    hours = [s["hour"] for s in view["series"]]
    suggested = view["suggested"]
    charts = [
        chart("concurrency", "Workflows running at once (peak per hour)", hours, "hour (UTC)", "workflows", "line",
              [series("concurrency", "peak", "line", [s["peak_concurrency"] for s in view["series"]])],
              x_type="hour", lines=[("baseline", suggested["baseline"]),
                                    ("baseline + burst", suggested["baseline"] + suggested["burst"])]),
        chart("resources", "CPU and memory used (booked to the hour a workflow started)", hours, "hour (UTC)",
              "CPU cores", "line", [series("resources", "CPU cores", "line", [s["cores"] for s in view["series"]]),
                                    series("resources", "memory GiB", "line", [s["memory_gib"] for s in view["series"]],
                                           axis="right")], x_type="hour", y2_label="memory GiB"),
    ]
    for chart_id, key, title, x_label in (("hour_of_day", "by_hour_of_day", "Concurrency by hour of day", "hour (UTC)"),
                                          ("day_of_week", "by_day_of_week", "Concurrency by day of week", "weekday")):
        rows = view[key]
        charts.append(chart(chart_id, title, [r["key"] for r in rows], x_label, "workflows", "bar", [
            series(chart_id, "peak", "bar", [r["peak_concurrency"] for r in rows]),
            series(chart_id, "p95", "line", [r["p95_concurrency"] for r in rows]),
            series(chart_id, "avg cores", "line", [r["avg_cores"] for r in rows], axis="right")],
            lines=[("baseline", suggested["baseline"])], y2_label="CPU cores"))
    if view.get("cost"):
        cost = view["cost"]
        charts.append(chart("cost", "Cost estimate (total %s)" % cost["total"], ["CPU", "memory"], "cost", "resource",
                            "barh", [series("cost", "cost", "bar", [cost["cpu"], cost["memory"]])]))
    return charts


def _summary(per_day, by_phase, view):
    total = sum(s["count"] for s in per_day)
    rows = [("workflows", total)]
    days = [s["key"] for s in per_day if s["key"] is not None]
    if days:
        rows.append(("days", "%s .. %s (%d with workflows)" % (days[0], days[-1], len(days))))
    if by_phase and total:
        failed = sum(s["count"] for p in FAILED_PHASES for s in by_phase.get(p, []))
        rows.append(("failure rate", "%.1f %%" % (100.0 * failed / total)))
    if view:
        rows += [("hours with workflows", view.get("hours_with_workflows")),
                 ("peak concurrency", view.get("peak_concurrency")), ("p95 concurrency", view.get("p95_concurrency")),
                 ("suggested baseline", view["suggested"]["baseline"]), ("suggested burst", view["suggested"]["burst"]),
                 ("burst to the peak", view["suggested"].get("burst_to_peak")),
                 ("core-hours", view.get("core_hours")), ("GiB-hours", view.get("gib_hours"))]
        if view.get("cost"):
            rows += [("cost CPU", view["cost"]["cpu"]), ("cost memory", view["cost"]["memory"]),
                     ("cost total", view["cost"]["total"])]
    return [dict(name=n, value=v) for n, v in rows]


def _stats_table(title, stats):
    rows = [[s["key"] if s["key"] is not None else "(none)", s["count"]]
            + [s["duration_seconds"].get(k) for k in ("avg", "p50", "p95", "max")] for s in stats]
    return dict(title=title, columns=["key", "count", "avg s", "p50 s", "p95 s", "max s"], rows=rows)


def _latest_table(workflows):
    return dict(title="Latest %d archived workflows" % len(workflows),
                columns=["name", "namespace", "phase", "started", "finished", "duration s"],
                rows=[[w.get("name"), w.get("namespace"), w.get("phase"), w.get("started_at"), w.get("finished_at"),
                       w.get("duration_seconds")] for w in workflows])


def build_report(per_day, by_phase=None, failing=None, capacity=None, tables=None, latest=None, top=10,
                 title=DEFAULT_TITLE):
    """Checked inputs -> the report model {title, summary, charts, tables} every output is made from."""
    per_day = check_stats(per_day, "stats_by_day")
    by_phase = check_by_phase(by_phase or {}, "stats_by_day_and_phase")
    failing = check_stats(failing or [], "failing_templates")
    view = check_capacity(capacity)
    tables = tables or {}
    if not isinstance(tables, dict):
        raise ReportError("tables: must be a dict of title -> archive_info stats")
    latest = check_workflows(latest or [], "latest")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ReportError("top_failing: %r is not a positive whole number" % (top,))
    charts = run_charts(per_day, by_phase)
    failing_view = failing_chart(failing, top)
    if failing_view:
        charts.append(failing_view)
    if view:
        charts += capacity_charts(view)
    out_tables = [_stats_table(name, check_stats(stats, "tables.%s" % name)) for name, stats in sorted(tables.items())]
    if latest:
        out_tables.append(_latest_table(latest))
    return dict(title=title, summary=_summary(per_day, by_phase, view), charts=charts, tables=out_tables)


def points(report):
    """(chart id, series name, x, y) of every plotted point, in chart order."""
    for item in report["charts"]:
        for line in item["series"]:
            for x, y in zip(item["x"], line["y"]):
                yield item["id"], line["name"], x, y


def chart_counts(report):
    """[{id, title, series: {gid: points}}] (what the module returns, and what the SVG must contain)."""
    return [dict(id=c["id"], title=c["title"], series=dict((s["gid"], len(s["y"])) for s in c["series"]))
            for c in report["charts"]]


# ---- the three outputs ----

def to_csv(report):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["chart", "series", "x", "y"])
    for row in points(report):
        writer.writerow(row)
    return out.getvalue()


def to_json(report):
    return json.dumps(report, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


STYLE = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin: 28px 0 4px; }
p.note { color: #555; font-size: 13px; margin: 2px 0; }
figure { margin: 0; } figure svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
table.summary td:first-child { font-weight: bold; }
"""


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return html.escape("%g" % value)
    return html.escape(str(value))


def _table(table, css=""):
    head = "".join("<th>%s</th>" % html.escape(c) for c in table["columns"])
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % _cell(v) for v in row) for row in table["rows"])
    return '<table%s><thead><tr>%s</tr></thead><tbody>%s</tbody></table>' % (css, head, body)


def to_html(report, svgs):
    """The page: ``svgs`` maps chart id -> inline <svg> text (archive_report_svg.render_all)."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>%s</title>" % html.escape(report["title"]), "<style>%s</style></head><body>" % STYLE,
             "<h1>%s</h1>" % html.escape(report["title"]),
             '<p class="note">Charts are inline SVG; the same series are in the CSV and JSON files next to '
             'this page.</p>',
             _table(dict(columns=["figure", "value"], rows=[[r["name"], r["value"]] for r in report["summary"]]),
                    ' class="summary"')]
    if not report["charts"]:
        parts.append('<p class="note">No workflows matched: nothing to chart.</p>')
    for item in report["charts"]:
        parts.append('<section id="chart-%s"><h2>%s</h2>' % (item["id"], html.escape(item["title"])))
        if item.get("note"):
            parts.append('<p class="note">%s</p>' % html.escape(item["note"]))
        parts.append("<figure>%s</figure></section>" % svgs[item["id"]])
    for table in report["tables"]:
        parts.append("<section><h2>%s</h2>%s</section>" % (html.escape(table["title"]), _table(table)))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---- files ----

def export_paths(html_path):
    """{html, csv, json}: the CSV and JSON next to the HTML, same name, other extension."""
    stem = html_path[:-len(".html")] if html_path.endswith(".html") else os.path.splitext(html_path)[0]
    return dict(html=html_path, csv=stem + ".csv", json=stem + ".json")


def check_destination(html_path):
    """ReportError unless the three files can be written (before anything is)."""
    if not html_path.endswith((".html", ".htm")):
        raise ReportError("path: %r must end with .html (the CSV and JSON are written next to it)" % html_path)
    directory = os.path.dirname(os.path.abspath(html_path))
    if not os.path.isdir(directory):
        raise ReportError("path: directory %s does not exist" % directory)
    if not os.access(directory, os.W_OK):
        raise ReportError("path: directory %s is not writable" % directory)
    for path in export_paths(html_path).values():
        if os.path.isdir(path):
            raise ReportError("path: %s is a directory" % path)


def read_text(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except (IOError, OSError):
        return None
    except UnicodeDecodeError:
        return ""  # not ours; differs from whatever we would write


def differing(contents):
    """The kinds (html/csv/json) whose file does not hold exactly ``contents[kind]`` -> {kind: (path, before)}."""
    out = {}
    for kind, (path, text) in contents.items():
        before = read_text(path)
        if before != text:
            out[kind] = (path, before)
    return out


def _mode_for(path):
    """An existing file keeps its mode; a new one gets what open() would give it (0666 less the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path, text):
    """Write next to ``path`` then rename over it, so a reader never sees half a report."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def render_files(report, html_path):
    """{kind: (path, text)} of the three files for the report model."""
    paths = export_paths(html_path)
    texts = dict(html=to_html(report, archive_report_svg.render_all(report)), csv=to_csv(report),
                 json=to_json(report))
    return dict((kind, (paths[kind], texts[kind])) for kind in ("html", "csv", "json"))


def publish(html_path, report, check_mode=False, diff=False):
    """Write the files whose content differs (none in check mode); the module's result."""
    check_destination(html_path)
    contents = render_files(report, html_path)
    changes = differing(contents)
    if not check_mode:
        for kind in ("csv", "json", "html"):  # the page last: once it is there, its exports are too
            if kind in changes:
                write_atomically(*contents[kind])
    result = dict(changed=bool(changes), html_path=contents["html"][0], csv_path=contents["csv"][0],
                  json_path=contents["json"][0], changed_files=[contents[k][0] for k in ("html", "csv", "json")
                                                                if k in changes],
                  bytes=dict((k, len(v[1].encode("utf-8"))) for k, v in contents.items()),
                  charts=chart_counts(report))
    if diff:
        before = changes.get("json", (None, contents["json"][1]))[1]
        result["diff"] = dict(before_header=contents["json"][0], after_header=contents["json"][0],
                              before=before or "", after=contents["json"][1])
    return result


def run_archive_report(module, result):
    """archive_report: build the HTML report (and its CSV/JSON series) from archive_info results, write it."""
    if not archive_report_svg.HAS_MATPLOTLIB:
        raise ArgoopsError("%s Install it with: %s" % (missing_required_lib("matplotlib"),
                                                       archive_report_svg.INSTALL_HINT),
                           exception=str(archive_report_svg.MATPLOTLIB_IMPORT_ERROR))
    p = module.params
    report = build_report(p["stats_by_day"], p["stats_by_day_and_phase"], p["failing_templates"],
                          p["capacity"], p["tables"], p["latest"], p["top_failing"], p["title"])
    result.update(publish(p["path"], report, module.check_mode, module._diff))
