"""errors: the one error base and the one way a module turns an error into a task failure."""
import ast
import importlib
import inspect
import json
import pathlib
import pkgutil

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.argoops.workflows.plugins import module_utils, modules
from ansible_collections.argoops.workflows.plugins.module_utils.errors import ArgoopsError, run_module

SECRET = "s3cret-value-42"


def module_with(capsys, run, **args):
    with patch_module_args(dict(dict(name="x", password=SECRET), **args)):
        module = AnsibleModule(argument_spec=dict(name=dict(type="str"), password=dict(type="str", no_log=True)))
        with pytest.raises(SystemExit):
            run_module(module, run)
    return json.loads(capsys.readouterr().out)


def test_success_exits_with_what_the_run_filled(capsys):
    def run(module, result):
        result.update(changed=True, seen=module.params["name"])

    out = module_with(capsys, run)
    assert out["changed"] is True and out["seen"] == "x" and "failed" not in out


def test_failure_keeps_the_result_so_far_and_the_details(capsys):
    def run(module, result):
        result.update(changed=False, actions=["create role"], k3d_version={"k3d": "v5.9.0"})
        raise ArgoopsError("role: cannot be created", changed=True, actions=["create role"], rc=1, stdout=None)

    out = module_with(capsys, run)
    assert out["failed"] is True and out["msg"] == "role: cannot be created"
    assert out["changed"] is True and out["actions"] == ["create role"] and out["rc"] == 1
    assert out["k3d_version"] == {"k3d": "v5.9.0"}  # what the run knew before it failed
    assert "stdout" not in out  # None details are left out


def test_a_secret_in_a_message_or_a_detail_is_masked(capsys):
    """A message should never carry a secret; if one ever does, fail_json still removes no_log values."""
    def run(module, result):
        module.no_log_values.add("tok-abc-123")  # what k3d's client does with a cluster token it has seen
        raise ArgoopsError("cannot log in with %s" % SECRET, stderr="token tok-abc-123 refused")

    out = module_with(capsys, run)
    text = json.dumps(out)
    assert SECRET not in text and "tok-abc-123" not in text
    # replaced where it stood, the rest of the message and of the detail kept
    assert out["msg"] == "cannot log in with ********" and out["stderr"] == "token ******** refused"


def test_other_exceptions_are_not_turned_into_failures(capsys):
    def run(module, result):
        raise KeyError("a bug")

    with patch_module_args({}):
        module = AnsibleModule(argument_spec={})
        with pytest.raises(KeyError):
            run_module(module, run)


def _error_classes():
    for info in pkgutil.iter_modules(module_utils.__path__):
        loaded = importlib.import_module("%s.%s" % (module_utils.__name__, info.name))
        for name, value in vars(loaded).items():
            if inspect.isclass(value) and name.endswith("Error") and value.__module__ == loaded.__name__:
                yield "%s.%s" % (info.name, name), value


def test_every_error_of_module_utils_has_the_one_base():
    found = dict(_error_classes())
    assert len(found) >= 16, sorted(found)  # the base and the collection's 15: KubeError, PgError, ConfigError, ...
    assert [name for name, cls in sorted(found.items()) if not issubclass(cls, ArgoopsError)] == []


@pytest.mark.parametrize("path", sorted(pathlib.Path(modules.__path__[0]).glob("*.py")), ids=lambda p: p.stem)
def test_every_module_runs_through_run_module(path):
    """One shape for every module: main builds the AnsibleModule and hands it to run_module; no module
    calls fail_json or exit_json itself."""
    tree = ast.parse(path.read_text())
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    names = [getattr(f, "id", None) or getattr(f, "attr", None) for f in calls]
    assert "run_module" in names
    assert "fail_json" not in names and "exit_json" not in names
