"""archive_report the module: options reach the model, check mode writes nothing, a re-run changes
nothing, bad input and a missing matplotlib fail with the option or the install hint named."""
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.argoops.workflows.plugins.module_utils import archive_report_svg
from ansible_collections.argoops.workflows.plugins.modules import archive_report


def stat(key, count):
    return dict(key=key, count=count, duration_seconds=dict(avg=1.0, p50=1.0, p95=2.0, max=3.0))


def run(args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        archive_report.main()
    return json.loads(capsys.readouterr().out)


def args_for(tmp_path, **extra):
    args = dict(path=str(tmp_path / "a.html"), stats_by_day=[stat("2024-05-01", 3), stat("2024-05-02", 1)],
                stats_by_day_and_phase=dict(Succeeded=[stat("2024-05-01", 2)],
                                            Failed=[stat("2024-05-01", 1), stat("2024-05-02", 1)]))
    return dict(args, **extra)


@pytest.mark.skipif(not archive_report_svg.HAS_MATPLOTLIB, reason="matplotlib is a dev requirement")
def test_check_mode_then_write_then_no_change(tmp_path, capsys):
    check = run(dict(args_for(tmp_path), _ansible_check_mode=True), capsys)
    assert check["changed"] is True and os.listdir(str(tmp_path)) == []
    first = run(args_for(tmp_path), capsys)
    assert first["changed"] is True and first["changed_files"] == [str(tmp_path / n) for n in ("a.html", "a.csv", "a.json")]
    runs = next(c for c in first["charts"] if c["id"] == "runs")
    assert runs["series"] == {"series-runs-succeeded": 2, "series-runs-failed": 2}
    assert run(args_for(tmp_path), capsys)["changed"] is False
    assert run(dict(args_for(tmp_path), _ansible_check_mode=True), capsys)["changed"] is False


def test_bad_input_names_the_option(tmp_path, capsys):
    result = run(args_for(tmp_path, stats_by_day_and_phase={"Running": []}), capsys)
    assert result["failed"] is True and "stats_by_day_and_phase: 'Running' is not a phase" in result["msg"]
    assert os.listdir(str(tmp_path)) == []


def test_missing_matplotlib_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(archive_report_svg, "HAS_MATPLOTLIB", False)
    result = run(args_for(tmp_path), capsys)
    assert result["failed"] is True and "matplotlib" in result["msg"] and "pip install matplotlib" in result["msg"]
    assert os.listdir(str(tmp_path)) == []
