"""True subprocess tests of all-in-one/datagen_bootstrap.py, the user's entry point.

Most tests never create a virtual environment. The marker/install tests share ONE
module-scoped throw-away venv (DATAGEN_VENV) built from a comment-only requirements file
(DATAGEN_REQUIREMENTS), so no network is needed; each rebuild costs a few seconds, so only
the tests about rebuilding rebuild. Every test that changes the requirements file leaves the
venv "ready" for its current content, so the tests do not depend on their order.
"""

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generators import BUILTIN_ALIASES, BUILTIN_FORMATS
from tests.helpers import ROOT

BOOTSTRAP = ROOT / "all-in-one" / "datagen_bootstrap.py"
MARKER = ".datagen-requirements.sha256"
#: every built-in format and alias, from the registry's table (the bootstrap must name them all)
FORMATS = tuple(BUILTIN_FORMATS)
ALIASES = tuple(BUILTIN_ALIASES)


def _env(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAGEN_")}
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def run(args, env, cwd=None, script=BOOTSTRAP, timeout=600):
    return subprocess.run(
        [sys.executable, str(script), *args],
        check=False,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _venv_python(venv):
    return Path(venv) / "bin" / "python"


def _python_runs(python):
    result = subprocess.run(
        [str(python), "-c", "print(1)"], check=False, capture_output=True, text=True
    )
    return result.returncode == 0 and result.stdout == "1\n"


def _leftovers(venv):
    venv = Path(venv)
    return sorted(
        p.name
        for p in venv.parent.iterdir()
        if p.name.startswith(venv.name + ".tmp-")
        or p.name.startswith(venv.name + ".old-")
    )


# --------------------------------------------------------------------------- no venv needed


def test_bootstrap_imports_only_the_standard_library():
    tree = ast.parse(BOOTSTRAP.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert modules and modules <= set(sys.stdlib_module_names), modules - set(
        sys.stdlib_module_names
    )


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_commands_formats_options_and_creates_no_venv(tmp_path, flag):
    venv = tmp_path / "venv"
    result = run([flag], _env(DATAGEN_VENV=venv), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for word in (
        "describe",
        "generate",
        "validate",
        *FORMATS,
        *ALIASES,
        "--reinstall",
        "--setup",
        "DATAGEN_VENV",
        "DATAGEN_REQUIREMENTS",
        "DATAGEN_BOOTSTRAP_DRY_RUN",
    ):
        assert word in result.stdout, word
    assert not venv.exists()
    assert not list(tmp_path.iterdir())


def test_command_help_without_format_prints_the_verbs_options():
    """``generate --help`` shows generate's own options and every format's --option keys (it
    used to print the bootstrap's usage)."""
    result = run(["generate", "--help"], _env())
    assert result.returncode == 0, result.stderr
    for word in ("--workers", "--block-rows", "--option", "--rate", "row_group_rows", "delimiter", "late_max_delay"):
        assert word in result.stdout, word
    result = run(["validate", "--format", "csv", "--help"], _env())
    assert result.returncode == 0, result.stderr
    assert "--strict" in result.stdout and "delimiter" in result.stdout and "row_group_rows" not in result.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["generate", "--format", "parqet"],
            ["unknown format 'parqet'", "did you mean 'parquet'"],
        ),
        (["describe", "--format=jsn"], ["unknown format 'jsn'", "did you mean 'json'"]),
        (["generate", "--format", "CSV"], ["did you mean 'csv'"]),
        (["generate", "--format", "oracle"], ["unknown format 'oracle'"]),
        (
            ["generat", "--format", "csv"],
            ["unknown command 'generat'", "did you mean 'generate'"],
        ),
        ([], ["missing command", "usage:"]),
        (["--format", "csv", "generate"], ["before the command", "usage:"]),
        (["generate"], ["missing --format", "usage:"]),
        (["generate", "--schema", "s.yaml"], ["missing --format"]),
        (["generate", "--format"], ["--format needs a value"]),
        (["--setup", "generate", "--format", "csv"], ["--setup takes no command"]),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message_and_no_venv(tmp_path, args, expected):
    venv = tmp_path / "venv"
    result = run(
        args, _env(DATAGEN_VENV=venv, DATAGEN_REQUIREMENTS=tmp_path / "missing.txt")
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    for text in expected:
        assert text in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not venv.exists()


def test_unknown_format_message_is_one_line_listing_all_formats(tmp_path):
    result = run(["generate", "--format", "xml"], _env(DATAGEN_VENV=tmp_path / "venv"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for fmt in (*FORMATS, *ALIASES):
        assert fmt in lines[0]


def test_unreadable_requirements_exits_3_without_traceback(tmp_path):
    venv = tmp_path / "venv"
    result = run(
        ["generate", "--format", "csv"],
        _env(DATAGEN_VENV=venv, DATAGEN_REQUIREMENTS=tmp_path / "nope.txt"),
    )
    assert result.returncode == 3
    assert "nope.txt" in result.stderr and "DATAGEN_REQUIREMENTS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not venv.exists()


def test_refuses_to_replace_a_directory_that_is_not_a_venv(tmp_path):
    venv = tmp_path / "precious"
    venv.mkdir()
    (venv / "data.txt").write_text("keep me")
    req = tmp_path / "requirements.txt"
    req.write_text("# nothing\n")
    result = run(
        ["generate", "--format", "csv"],
        _env(DATAGEN_VENV=venv, DATAGEN_REQUIREMENTS=req),
    )
    assert result.returncode == 3
    assert "not a virtual environment" in result.stderr
    assert (venv / "data.txt").read_text() == "keep me"
    assert _leftovers(venv) == []


# --------------------------------------------------------------------------- throw-away venv


@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    """A throw-away venv built once by the bootstrap; `first` is that first run."""
    base = tmp_path_factory.mktemp("bootstrap")
    req = base / "requirements.txt"
    req.write_text("# no requirements: keeps the test offline\n")
    venv = base / "venv"

    class Ready:
        pass

    r = Ready()
    r.base, r.req, r.venv = base, req, venv
    r.marker = venv / MARKER
    r.python = _venv_python(venv)
    # one small extra (an empty requirements file): --setup installs it, not the repository's
    # real extras (Spark alone is a 450 MB source package)
    extras = base / "extras"
    extras.mkdir()
    (extras / "requirements-demo.txt").write_text("# an extra with nothing to install\n")
    r.env = _env(DATAGEN_VENV=venv, DATAGEN_REQUIREMENTS=req, DATAGEN_EXTRAS_DIR=extras)
    r.dry_env = _env(
        DATAGEN_VENV=venv, DATAGEN_REQUIREMENTS=req, DATAGEN_BOOTSTRAP_DRY_RUN=1, DATAGEN_EXTRAS_DIR=extras
    )
    assert not venv.exists()
    r.first = run(["describe", "--format", "parquet"], r.dry_env, cwd=base)
    return r


def test_first_run_creates_venv_and_marker(ready):
    first = ready.first
    assert first.returncode == 0, first.stderr
    assert "creating virtual environment" in first.stderr
    assert "first run only" in first.stderr
    assert ready.python.exists()
    assert ready.marker.exists()
    assert "requirements-sha256:" in ready.marker.read_text()
    assert _leftovers(ready.venv) == []
    # relocated by rename: activate script and pyvenv.cfg name the final path, not the temp one
    assert (
        f'VIRTUAL_ENV="{ready.venv}"' in (ready.venv / "bin" / "activate").read_text()
    )
    assert ".tmp-" not in (ready.venv / "pyvenv.cfg").read_text()
    assert _python_runs(ready.python)


def test_second_run_does_not_reinstall(ready):
    before = ready.marker.stat().st_mtime_ns
    result = run(["describe", "--format", "parquet"], ready.dry_env)
    assert result.returncode == 0
    assert result.stderr == ""
    assert ready.marker.stat().st_mtime_ns == before


def test_setup_option_only_ensures_the_venv(ready):
    before = ready.marker.stat().st_mtime_ns
    first = run(["--setup"], ready.env)  # installs the extras (requirements-<extra>.txt) the first time
    assert first.returncode == 0, first.stderr
    assert all(line.startswith("datagen: ") and "extra" in line for line in first.stderr.splitlines()), first.stderr
    result = run(["--setup"], ready.env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert ready.marker.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    "args, module",
    [
        (
            ["describe", "--format", "parquet", "--schema", "shop.yaml"],
            "datagen",
        ),
        (
            [
                "generate",
                "--format",
                "csv",
                "--out",
                "rel/out",
                "--rows",
                "a=1",
                "--rows",
                "b=2",
            ],
            "datagen",
        ),
        (["generate", "--format=csv", "--seed", "7"], "datagen"),
        (["generate", "--format", "json"], "datagen"),
        (["validate", "--format", "ndjson"], "datagen"),
        (["generate", "--format", "sqlite"], "datagen"),
        (["generate", "--format", "event_stream"], "datagen"),
        (["validate", "--format", "events"], "datagen"),
        (["describe", "--format", "parquet", "--help"], "datagen"),
        (["generate", "--help"], "datagen"),
        (["validate", "-h"], "datagen"),
        (
            ["generate", "--format", "csv", "--", "--reinstall"],
            "datagen",
        ),
    ],
)
def test_dry_run_prints_the_frontend_command_with_args_unchanged(ready, args, module):
    result = run(args, ready.dry_env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert shlex.split(result.stdout) == [str(ready.python), "-P", "-m", module, *args]


def test_ready_path_dispatches_without_installing(ready):
    """The ready path only hashes the requirements and execs (its cost is measured by bench/,
    not asserted here: a busy machine must not fail the suite)."""
    args = ["describe", "--format", "parquet", "--schema", "shop.yaml"]
    run(args, ready.dry_env)  # makes sure the venv is ready
    before = ready.marker.stat().st_mtime_ns
    result = run(args, ready.dry_env)
    assert result.returncode == 0 and result.stderr == ""
    assert ready.marker.stat().st_mtime_ns == before
    assert shlex.split(result.stdout)[:5] == [
        str(ready.python),
        "-P",
        "-m",
        "datagen",
        "describe",
    ]


def test_dispatch_execs_frontend_keeps_cwd_and_exit_code(ready, tmp_path):
    """A copy of the bootstrap in a fake repository whose csv frontend reports and exits 7."""
    fake_root = tmp_path / "repo"
    (fake_root / "all-in-one").mkdir(parents=True)
    shutil.copy(BOOTSTRAP, fake_root / "all-in-one" / "datagen_bootstrap.py")
    (fake_root / "datagen").mkdir()
    (fake_root / "datagen" / "__init__.py").write_text("")
    (fake_root / "datagen" / "__main__.py").write_text(
        "import json, os, sys\n"
        "print(json.dumps({'argv': sys.argv[1:], 'executable': sys.executable, 'cwd': os.getcwd(),\n"
        "                  'file': __file__, 'pythonpath': os.environ['PYTHONPATH']}))\n"
        "sys.exit(7)\n"
    )
    # a user directory with its own datagen package must not shadow datagen's
    user_dir = tmp_path / "user"
    (user_dir / "datagen").mkdir(parents=True)
    (user_dir / "datagen" / "__init__.py").write_text("")
    (user_dir / "datagen" / "__main__.py").write_text(
        "print('SHADOW')\nraise SystemExit(9)\n"
    )

    args = ["generate", "--format", "csv", "--out", "rel/out", "--seed", "3"]
    env = dict(ready.env, PYTHONPATH="/some/user/path")
    result = run(
        args,
        env,
        cwd=user_dir,
        script=fake_root / "all-in-one" / "datagen_bootstrap.py",
    )
    assert result.returncode == 7, (result.stdout, result.stderr)
    assert result.stderr == ""  # same venv and requirements: no reinstall
    report = json.loads(result.stdout)
    assert report["argv"] == args
    assert report["cwd"] == str(user_dir)
    assert report["executable"] == str(ready.python)
    assert (
        Path(report["file"]).resolve()
        == (fake_root / "datagen" / "__main__.py").resolve()
    )
    assert report["pythonpath"].split(os.pathsep) == [
        str(fake_root.resolve()),
        "/some/user/path",
    ]


def test_changed_requirements_trigger_a_reinstall(ready):
    old_marker = ready.marker.read_text()
    ready.req.write_text(ready.req.read_text() + "# changed\n")
    result = run(["generate", "--format", "csv"], ready.dry_env)
    assert result.returncode == 0, result.stderr
    assert "requirements changed" in result.stderr
    assert ready.marker.read_text() != old_marker
    assert _leftovers(ready.venv) == []
    again = run(["generate", "--format", "csv"], ready.dry_env)
    assert again.stderr == ""


def test_reinstall_option_forces_a_rebuild_and_is_stripped(ready):
    before = ready.marker.stat().st_mtime_ns
    result = run(
        ["generate", "--format", "csv", "--reinstall", "--seed", "1"], ready.dry_env
    )
    assert result.returncode == 0, result.stderr
    assert "--reinstall" in result.stderr and "rebuilding" in result.stderr
    assert ready.marker.stat().st_mtime_ns != before
    assert shlex.split(result.stdout)[3:] == [
        "datagen",
        "generate",
        "--format",
        "csv",
        "--seed",
        "1",
    ]
    assert _leftovers(ready.venv) == []


def test_failed_install_keeps_the_previous_venv(ready):
    good = ready.req.read_text()
    marker_before = ready.marker.read_text()
    mtime_before = ready.marker.stat().st_mtime_ns
    try:
        ready.req.write_text("./definitely-missing-1.0-py3-none-any.whl\n")
        result = run(["generate", "--format", "csv"], ready.env)
    finally:
        ready.req.write_text(good)
    assert result.returncode == 3, (result.stdout, result.stderr)
    log = ready.base / "venv-install.log"
    assert str(log) in result.stderr
    assert "definitely-missing" in result.stderr  # the log's tail is shown
    assert "--reinstall" in result.stderr and "rerun" in result.stderr
    assert "left unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert log.exists()
    assert ready.marker.read_text() == marker_before
    assert ready.marker.stat().st_mtime_ns == mtime_before
    assert _leftovers(ready.venv) == []
    assert _python_runs(ready.python)
    # and with the good requirements back, it is ready again without a rebuild
    assert run(["generate", "--format", "csv"], ready.dry_env).stderr == ""


# --------------------------------------------------------------------------- real repo venv


def test_real_frontend_bad_schema_exits_2_without_traceback(tmp_path):
    """Through the repository's own .venv (CI builds it with `make setup`) and a real frontend."""
    schema = tmp_path / "broken.yaml"
    schema.write_text("version: [\n")
    result = run(
        ["describe", "--format", "parquet", "--schema", str(schema)],
        _env(),
        cwd=tmp_path,
        timeout=1800,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "broken.yaml" in result.stderr


def _bootstrap_with_extras(tmp_path, verb_extras: str) -> Path:
    """A copy of the bootstrap in a fake repository whose VERB_EXTRAS line says ``verb_extras``."""
    fake_root = tmp_path / "repo"
    (fake_root / "all-in-one").mkdir(parents=True)
    text = BOOTSTRAP.read_text()
    line = re.search(r"\nVERB_EXTRAS = \{[^}]*\}\n", text)  # one line or several
    assert line is not None
    (fake_root / "all-in-one" / "datagen_bootstrap.py").write_text(
        text.replace(line.group(0), f"\nVERB_EXTRAS = {verb_extras}\n"))
    return fake_root


def _own_extras(env):
    """``env`` without DATAGEN_EXTRAS_DIR: the (fake) repository's own extras."""
    return {k: v for k, v in env.items() if k != "DATAGEN_EXTRAS_DIR"}


def test_an_extra_is_installed_the_first_time_a_verb_needs_it(ready, tmp_path):
    fake_root = _bootstrap_with_extras(tmp_path, '{"describe": "demo"}')
    script = fake_root / "all-in-one" / "datagen_bootstrap.py"
    extra = fake_root / "requirements-demo.txt"
    extra.write_text("# the demo extra: nothing to download, keeps the test offline\n")
    marker = ready.venv / ".datagen-extra-demo.sha256"
    marker.unlink(missing_ok=True)
    # a verb that does not need it installs nothing
    result = run(["generate", "--format", "csv"], _own_extras(ready.dry_env), script=script)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert not marker.exists()
    result = run(["describe", "--format", "csv"], _own_extras(ready.dry_env), script=script)
    assert result.returncode == 0, result.stderr
    assert "installing the demo extra (requirements-demo.txt)" in result.stderr
    assert marker.read_text().startswith("requirements-sha256:")
    assert shlex.split(result.stdout)[3:5] == ["datagen", "describe"]
    # the second time: nothing to do
    result = run(["describe", "--format", "csv"], _own_extras(ready.dry_env), script=script)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    # a changed pin list installs again
    extra.write_text("# the demo extra, changed\n")
    result = run(["describe", "--format", "csv"], _own_extras(ready.dry_env), script=script)
    assert "installing the demo extra" in result.stderr
    marker.unlink()
    # --setup installs every extra that has a requirements file
    result = run(["--setup"], _own_extras(ready.env), script=script)
    assert result.returncode == 0, result.stderr
    assert marker.exists()


def test_a_failing_extra_install_exits_3_and_keeps_the_venv(ready, tmp_path):
    fake_root = _bootstrap_with_extras(tmp_path, '{"validate": "broken"}')
    script = fake_root / "all-in-one" / "datagen_bootstrap.py"
    (fake_root / "requirements-broken.txt").write_text("--no-such-pip-option\n")
    result = run(["validate", "--format", "csv"], _own_extras(ready.dry_env), script=script)
    assert result.returncode == 3
    assert "pip install -r" in result.stderr and "full log:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (ready.venv / ".datagen-extra-broken.sha256").exists()
    assert _python_runs(ready.python)


def test_the_bootstrap_knows_every_verb_and_builtin_format_of_the_app():
    """The bootstrap dispatches every verb of the one command line, and its early format check
    knows exactly the built-in formats (plugins are checked by the app)."""
    import importlib.util

    import typer.main

    import generators
    from datagen.cli import app

    spec = importlib.util.spec_from_file_location("datagen_bootstrap", BOOTSTRAP)
    boot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(boot)
    assert set(boot.COMMANDS) == set(typer.main.get_command(app).commands)
    assert set(boot.FRONTENDS) == set(generators.BUILTIN_FORMATS)
    assert boot.ALIASES == generators.BUILTIN_ALIASES
    assert set(boot.VERB_EXTRAS) <= set(boot.COMMANDS)


def test_an_engine_or_a_format_or_a_verb_names_the_extras_it_needs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("datagen_bootstrap", BOOTSTRAP)
    boot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(boot)

    def extras(*argv):
        action, details = boot.parse_args(list(argv))
        assert action == "dispatch"
        return details[3]

    assert extras("generate", "--format", "parquet", "--engine", "spark") == ["spark"]
    assert extras("generate", "--format=parquet", "--engine=spark") == ["spark"]
    assert extras("generate", "--format", "parquet") == []
    assert extras("generate", "--format", "postgres", "--target", "x") == ["postgres"]
    assert extras("import", "sql", "f.sql") == ["sql"]
    assert extras("fit", "--source", "d", "--out", "s.yaml") == ["fit"]
    assert extras("serve") == ["service"]
    assert extras("fit", "--source", "d", "--out", "s.yaml", "--deep", "flights") == ["fit", "fit-deep"]
    assert extras("fit", "--source", "d", "--out", "s.yaml", "--deep=flights") == ["fit", "fit-deep"]
    assert set(boot.ENGINE_EXTRAS.values()) <= set(boot.available_extras())
    assert set(boot.OPTION_EXTRAS.values()) <= set(boot.available_extras())
    assert set(boot.OPTION_EXTRAS.values()) <= set(boot.NO_DEPS_EXTRAS)  # pinned whole, installed --no-deps
