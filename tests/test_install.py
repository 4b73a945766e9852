"""The project installs as a package: a wheel built from the checkout, installed into a fresh
virtual environment outside the repository, gives ``import datagen`` and the ``datagen`` command
with every verb, and reads its data files (schemas, JSON Schemas) from the installed package.

The fresh environment sees the project's pinned dependencies through a ``.pth`` file (no
download, no network); the wheel itself is installed with ``--no-deps``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False, timeout=300, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    # build from a copy: setuptools writes build/ and *.egg-info next to the sources it builds
    src = base / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv*", "out", "build", "*.egg-info")
    for name in ("datagen", "shared", "generators", "csv_generator", "schemas"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    wheels = base / "wheels"
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, src],
             cwd=base)
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = wheels.glob("datagen-*.whl")
    venv = base / "venv"
    r = _run([sys.executable, "-m", "venv", venv])
    assert r.returncode == 0, r.stderr
    py = venv / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "datagen-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    r = _run([py, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel])
    assert r.returncode == 0, r.stdout + r.stderr
    work = base / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {"wheel": wheel, "py": py, "bin": venv / "bin", "cwd": work, "env": env}


def test_wheel_holds_the_packages_and_data_files(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for must in ("datagen/__init__.py", "datagen/cli.py", "shared/api.py", "generators/parquet_generator/format.py",
                 "csv_generator/writer.py", "schemas/datagen.schema.json", "schemas/validation_report.schema.json",
                 "schemas/examples/shop.yaml", "datagen/service/page/index.html", "datagen/service/page/app.js",
                 "datagen/service/page/style.css"):
        assert must in names, must
    assert not any(n.startswith("tests/") for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "datagen = datagen.cli:main" in zipfile.ZipFile(installed["wheel"]).read(entry).decode()


def test_installed_command_generates_and_validates_outside_the_repository(installed):
    datagen = installed["bin"] / "datagen"
    cwd, env = installed["cwd"], installed["env"]
    schema = ROOT / "schemas" / "examples" / "shop.yaml"
    r = _run([datagen, "--help"], cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    for verb in ("describe", "generate", "validate"):
        assert verb in r.stdout
    r = _run([datagen, "generate", "--format", "parquet", "--schema", schema, "--out", cwd / "o", "--scale", "0.01",
              "--workers", "1", "-q"], cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    r = _run([datagen, "validate", "--format", "parquet", "--schema", schema, "--out", cwd / "o", "--json"],
             cwd=cwd, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert json.loads(r.stdout)["status"] == "pass"
    # the default schema comes from the installed package, not from a checkout
    r = _run([datagen, "describe", "--format", "csv", "--json"], cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["schema"]["name"] == "default"
    assert str(ROOT) not in info["schema"]["path"]


def test_installed_package_generates_a_table_to_pandas(installed):
    code = ("import datagen, shared, sys\n"
            "assert 'site-packages' in shared.__file__, shared.__file__\n"
            "t = datagen.to_pandas(datagen.example_schemas()['shop'], 'customers', rows={'customers': 25})\n"
            "print(len(t['customers']), sorted(datagen.formats()))\n")
    r = _run([installed["py"], "-c", code], cwd=installed["cwd"], env=installed["env"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("25 ['csv', 'delta', 'event_stream', 'events', 'json', 'ndjson', 'parquet', "
                               "'postgres', 'postgresql', 'sqlite']")
