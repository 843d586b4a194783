# -*- coding: utf-8 -*-
# Copyright: argoops.workflows contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Charts of the archive report (archive_report's model) as inline SVG, drawn with matplotlib.

matplotlib is optional for the collection: only this file imports it, and HAS_MATPLOTLIB tells the module
to fail with an install hint. Why the details:
- Deterministic bytes: a fixed ``svg.hashsalt`` (clip-path and marker ids are hashes salted with it) and
  no Date/Creator metadata, so the same model gives the same SVG and a re-run changes no file.
- Self-contained: text is drawn as glyph paths (``svg.fonttype: path``, matplotlib's bundled DejaVu Sans),
  the XML prolog/DOCTYPE and the RDF metadata (which name web addresses) are dropped.
- Several SVGs in one page: every id an SVG defines is prefixed with its chart id, so ids are unique in
  the document and each chart's references stay inside it. Series ids (``series-...``) are kept as they
  are: one group per series, a marker (``use``) per point of a line, a ``path`` per bar.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import io
import math
import re

try:
    import matplotlib
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.ticker import MaxNLocator
    HAS_MATPLOTLIB = True
    MATPLOTLIB_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the host
    HAS_MATPLOTLIB = False
    MATPLOTLIB_IMPORT_ERROR = exc

HASH_SALT = "argoops.workflows archive_report"
RC = {"svg.hashsalt": HASH_SALT, "svg.fonttype": "path", "font.family": "DejaVu Sans", "font.size": 9,
      "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3}
METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
COLORS = {"Succeeded": "#2e7d32", "Failed": "#c62828", "Error": "#ef6c00"}
WIDTH_IN = 11.0
MARKERS_SMALL_FROM = 120  # past this many points a marker is drawn smaller so the line stays readable
INSTALL_HINT = "pip install matplotlib (it is only needed on the host that writes the report)"

_DROP = re.compile(r"<\?xml[^>]*>\s*|<!DOCTYPE[^>]*>\s*|<metadata>.*?</metadata>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')  # an HTML page needs neither; SVG 2 takes plain href
_IDS = re.compile(r'\bid="([^"]+)"')


def _x_values(item):
    if item["x_type"] == "day":
        return [mdates.date2num(datetime.datetime.strptime(d, "%Y-%m-%d")) for d in item["x"]]
    if item["x_type"] == "hour":
        return [mdates.date2num(datetime.datetime.strptime(h, "%Y-%m-%dT%H:%M:%SZ")) for h in item["x"]]
    return list(range(len(item["x"])))


def _bar_width(item):
    return {"day": 0.8, "hour": 0.8 / 24}.get(item["x_type"], 0.8)


def _break_gaps(item, xs, ys):
    """Hours without workflows are not in the series: a NaN between two hours that are not adjacent keeps
    the line from suggesting values there (NaN draws no marker, so the markers stay one per point)."""
    if item["x_type"] != "hour":
        return xs, ys
    out_x, out_y = [], []
    for index, (x, y) in enumerate(zip(xs, ys)):
        if index and x - xs[index - 1] > 1.5 / 24:
            out_x.append((x + xs[index - 1]) / 2)
            out_y.append(float("nan"))
        out_x.append(x)
        out_y.append(y)
    return out_x, out_y


def _color(name, index):
    return COLORS.get(name, "C%d" % (index % 10))


def _bars(ax, rects, color, gid):
    ax.add_collection(PatchCollection(rects, facecolor=color, edgecolor="none", gid=gid))


def _draw(fig, item):
    ax = fig.add_subplot()
    xs = _x_values(item)
    handles = []
    bar_series = [s for s in item["series"] if s["kind"] == "bar"]
    width = _bar_width(item)
    if item["kind"] == "barh":
        ys = list(range(len(xs)))[::-1]
        for index, line in enumerate(bar_series):
            _bars(ax, [Rectangle((0, y - 0.4), v, 0.8) for y, v in zip(ys, line["y"])], _color(line["name"], index),
                  line["gid"])
            ax.set_xlim(0, max(line["y"] or [1]) * 1.08)
        ax.set_yticks(ys)
        ax.set_yticklabels(item["x"])
        ax.set_ylim(-0.6, len(ys) - 0.4)
        ax.set_xlabel(item["x_label"])
        ax.grid(axis="y", visible=False)
        return ax, handles, None
    right = None
    if any(s.get("axis") == "right" for s in item["series"]):
        right = ax.twinx()
        right.set_ylabel(item.get("y2_label") or "")
        right.grid(False)
        right.spines["right"].set_visible(True)
    bottoms = [0.0] * len(xs)
    step = width / max(1, len(bar_series)) if item["kind"] != "stacked" else width
    for index, line in enumerate(s for s in item["series"]):
        color = _color(line["name"], index)
        if line["kind"] == "bar":
            if item["kind"] == "stacked":
                rects = [Rectangle((x - width / 2, b), width, v) for x, b, v in zip(xs, bottoms, line["y"])]
                bottoms = [b + v for b, v in zip(bottoms, line["y"])]
            else:
                offset = -width / 2 + step * bar_series.index(line)
                rects = [Rectangle((x + offset, 0), step, v) for x, v in zip(xs, line["y"])]
            _bars(ax, rects, color, line["gid"])
            handles.append(Patch(facecolor=color, label=line["name"]))
        else:
            size = 2.5 if len(xs) >= MARKERS_SMALL_FROM else 4.5
            line_xs, line_ys = _break_gaps(item, xs, line["y"])
            target = right if line.get("axis") == "right" else ax
            drawn, = target.plot(line_xs, line_ys, marker="o", markersize=size, linewidth=1.4, color=color,
                                 label=line["name"], gid=line["gid"])
            handles.append(drawn)
    for index, ref in enumerate(item["lines"]):
        handles.append(ax.axhline(ref["y"], linestyle="--", linewidth=1, color=("#555555", "#999999")[index % 2],
                                  label="%s (%g)" % (ref["name"], ref["y"])))
    left_values = [v for s in item["series"] if s.get("axis") != "right" for v in s["y"]]
    top = max(bottoms + left_values + [r["y"] for r in item["lines"]] + [0]) or 1  # 1: an empty or all-zero chart
    ax.set_ylim(0, min(top * 1.1, 105.0) if item["y_label"].startswith("%") else top * 1.1)
    if right is not None:
        right.set_ylim(0, (max([v for s in item["series"] if s.get("axis") == "right" for v in s["y"]] + [0]) or 1) * 1.1)
    if xs:
        pad = width if item["x_type"] != "category" else 0.6
        ax.set_xlim(min(xs) - pad, max(xs) + pad)
    if item["y_label"].startswith("workflows"):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if item["x_type"] == "category":
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in item["x"]])
    elif item["x_type"] == "day" and xs:
        # Whole days only (the automatic locator puts 12:00 ticks on a short range).
        step = max(1, int(math.ceil((max(xs) - min(xs) + 1) / 12.0)))
        ax.set_xticks([min(xs) + i * step for i in range(int((max(xs) - min(xs)) // step) + 1)])
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    else:
        locator = mdates.AutoDateLocator(maxticks=12)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(item["x_label"])
    ax.set_ylabel(item["y_label"])
    return ax, handles, right


def _unique_ids(svg, prefix):
    """Prefix every id the SVG defines (except series ids) and its references with ``prefix``."""
    ids = set(i for i in _IDS.findall(svg) if not i.startswith("series-"))
    if not ids:
        return svg

    def rename(match):
        head, name, tail = match.group(1), match.group(2), match.group(3)
        return head + (prefix + name if name in ids else name) + tail
    return re.sub(r'(\bid="|href="#|url\(#)([^")]+)([")])', rename, svg)


def render(item):
    """One chart of the model -> an <svg> element (text)."""
    height = 3.4 if item["kind"] != "barh" else 1.0 + 0.32 * max(1, len(item["x"]))
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, height))
        FigureCanvasSVG(fig)
        ax, handles, right = _draw(fig, item)
        if not item["x"]:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="#777777")
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0 if right is None else 1.08, 1.0), frameon=False)
        # Same plot area in every chart (not tight_layout), so the charts of a page line up.
        left = 0.07 if item["kind"] != "barh" else min(0.4, 0.03 + 0.0075 * max([len(str(x)) for x in item["x"]] + [4]))
        fig.subplots_adjust(left=left, right=0.8, bottom=0.5 / height + 0.06, top=1 - 0.25 / height)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata=METADATA)
    svg = _XMLNS.sub("", _DROP.sub("", out.getvalue())).replace("xlink:href=", "href=")
    return _unique_ids(svg, "%s-" % item["id"]).strip()


def render_all(report):
    """{chart id: svg text} for every chart of the report model."""
    return dict((item["id"], render(item)) for item in report["charts"])
