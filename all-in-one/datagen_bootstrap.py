#!/usr/bin/env python3
"""Single entry point for datagen that needs nothing but a system ``python3``.

Usage::

    python3 all-in-one/datagen_bootstrap.py <describe|generate|validate> --format FORMAT [args ...]

What it does, in order:

1. **Parses just enough of the command line** to pick a frontend: the command
   (``describe``, ``generate``, ``validate``) and ``--format FMT`` / ``--format=FMT``.
   Every argument is passed to the frontend unchanged (``--format`` included); only the
   bootstrap's own options are removed. Bad usage (no/unknown command, no ``--format``,
   unknown format) exits 2 with a one-line message (unknown names get "did you mean ...?")
   and never creates a virtual environment. ``-h``/``--help`` without a command prints
   usage and exits 0, also without a virtual environment; ``<command> --format X --help``
   is dispatched so that the frontend prints its own help.

2. **Makes sure the virtual environment is ready.** The venv lives in ``<root>/.venv``
   (``<root>`` is the parent of the ``all-in-one/`` folder, found through ``__file__``, so the
   current directory does not matter). Inside it, the marker file
   ``.datagen-requirements.sha256`` records the sha256 of ``<root>/requirements.txt`` and the
   Python implementation and ``major.minor`` version that built it. With a matching marker
   and an existing ``<venv>/bin/python`` the bootstrap only hashes the requirements file and
   execs: a few milliseconds on top of Python's start-up. Otherwise, or with
   ``--reinstall``, it (re)builds the venv:

   * build a fresh venv in the sibling ``<venv>.tmp-<pid>`` and run
     ``<tmp>/bin/python -m pip install --disable-pip-version-check -r requirements.txt``
     there (from the repository root, so relative paths in the file mean the same thing
     from any current directory); all output goes to ``<venv-parent>/<venv-name>-install.log``
     (``<root>/.venv-install.log`` by default), which is also the lock file that keeps two
     concurrent bootstraps from building at the same time;
   * write the marker, rewrite the temporary path inside ``bin/`` (``activate`` scripts,
     console-script shebangs) to the final one, then swap into place by renames:
     ``<venv>`` -> ``<venv>.old-<pid>``, ``<tmp>`` -> ``<venv>``; the old venv is deleted
     after the swap;
   * on failure: the previous venv is left untouched and usable, the temporary venv is
     removed, stderr names the log and shows its last lines and what to do next, and the
     exit code is 3 (2 is reserved for bad input).

   Everything runs as ``<venv>/bin/python -m ...``: scripts' shebangs are not relocatable.
   An existing ``<venv>`` path that does not look like a venv (no ``pyvenv.cfg``) is never
   moved or deleted: the bootstrap stops with exit 3 instead. Limitation: the hash covers
   the requirements file itself, not files it includes with ``-r``/``-c``.

3. **Dispatches** with ``os.execve`` (so the frontend's exit code is the bootstrap's)::

       <venv>/bin/python -P -m datagen <command> [args ...]

   with ``<root>`` prepended to ``PYTHONPATH`` and the user's current directory unchanged,
   so relative ``--schema``/``--out`` paths keep their meaning. ``-P`` (Python >= 3.11) stops
   Python from putting the current directory first on ``sys.path``, so a ``generators/``
   folder or a ``yaml.py`` in the user's directory cannot shadow datagen's modules.

Bootstrap options (removed before dispatch):

``-h``, ``--help``
    usage (only when given before, or instead of, a dispatchable command).
``--reinstall``
    rebuild the venv even if the marker matches; accepted anywhere before ``--``.
``--setup``
    make sure the venv is ready, then exit 0 without dispatching (for ``make setup``/CI:
    a venv built by plain ``pip`` has no marker and would be rebuilt on first use).

Environment variables:

``DATAGEN_VENV``
    venv location instead of ``<root>/.venv`` (tests use a throw-away path).
``DATAGEN_REQUIREMENTS``
    requirements file instead of ``<root>/requirements.txt``.
``DATAGEN_EXTRAS_DIR``
    the folder of the extras' ``requirements-<extra>.txt`` instead of ``<root>`` (tests use a
    folder with one small extra, so ``--setup`` installs no Spark).
``DATAGEN_BOOTSTRAP_DRY_RUN``
    when set (and not ``0``): do all the pre-exec work, including any install, then print
    the command that would be executed on stdout and exit 0.

Exit codes: 2 bad usage; 3 the environment could not be set up; anything else is the
frontend's own exit code.

Standard library only, and on the ready path only ``os``, ``sys`` and ``hashlib``.
Formats live in the single ``FRONTENDS`` dict (plus ``ALIASES``): adding a format is one line.
"""

import hashlib
import os
import sys

# every verb of the datagen command line (a test keeps this equal to the app's verbs); each is
# dispatched to APP_MODULE, `python -m datagen VERB ...`
COMMANDS = ("describe", "generate", "validate", "blueprints", "runs", "targets", "query", "import", "export-ddl",
            "fit", "serve", "report")
# the verbs that need --format (the others take it where it applies)
FORMAT_COMMANDS = ("describe", "generate", "validate")
APP_MODULE = "datagen"
# the optional capabilities (pyproject's extras) a verb or a format needs, installed into the venv
# the first time one of them is used, from requirements-<extra>.txt (that extra's exact pins);
# `--setup` (make setup, make test) installs every extra that has such a file. The issues that
# bring postgres, sql, service, fit and spark add their line here, e.g. "serve": "service".
VERB_EXTRAS = {"targets": "postgres", "query": "sql", "import": "sql", "export-ddl": "sql", "fit": "fit",
               "serve": "service", "report": "fit"}
FORMAT_EXTRAS = {"postgres": "postgres", "delta": "spark"}
# `generate --engine NAME` / `validate --engine NAME` -> the extra that engine needs
ENGINE_EXTRAS = {"spark": "spark"}
# (verb, option) -> the extra that option needs on top of the verb's (`fit --deep TABLE`: CTGAN)
OPTION_EXTRAS = {("fit", "--deep"): "fit-deep"}
# extras installed with `pip install --no-deps`: every package pinned in the file, and pip kept
# from re-resolving what requirements.txt pins (fit-test: SDMetrics, the reference the fidelity
# report is tested against, declares pandas<3 but runs on the pinned pandas 3; fit-deep: ctgan's
# rdt declares pandas<3 likewise, and torch is the CPU build, found by its +cpu pin)
NO_DEPS_EXTRAS = ("fit-test", "fit-deep")

# the built-in formats -> their frontend modules (each also `python -m MODULE VERB ...`); formats
# from plugins are checked by the app itself.
FRONTENDS = {
    "csv": "generators.csv_generator",
    "json": "generators.json_generator",
    "ndjson": "generators.json_generator",
    "parquet": "generators.parquet_generator",
    "sqlite": "generators.sqlite_seed",
    "event_stream": "generators.event_stream_generator",
    "postgres": "generators.postgres_target",
    "delta": "generators.delta_table",
}
# alias -> format; the alias itself is passed through to the frontend unchanged.
ALIASES = {"events": "event_stream", "postgresql": "postgres"}

EXIT_USAGE = 2
EXIT_SETUP_FAILED = 3

MIN_PYTHON = (
    3,
    11,
)  # the pinned requirements need it; usage errors/help work on any python3
MARKER_NAME = ".datagen-requirements.sha256"
LOG_TAIL_LINES = 20

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
PROG = "python3 all-in-one/datagen_bootstrap.py"


class UsageError(Exception):
    """Bad command line; the message is one line, printed before exiting with 2."""

    def __init__(self, message, show_usage=True):
        super().__init__(message)
        self.show_usage = show_usage


class SetupError(Exception):
    """The virtual environment could not be built; exits with 3."""


# --------------------------------------------------------------------------- messages


def _say(message):
    sys.stderr.write("datagen: " + message + "\n")
    sys.stderr.flush()


def _format_names():
    names = []
    for name in FRONTENDS:
        aliases = [a for a, target in ALIASES.items() if target == name]
        names.append(name + (" (alias " + ", ".join(aliases) + ")" if aliases else ""))
    return ", ".join(names)


def _short_usage():
    return "usage: {} <{}> --format FORMAT [options ...]\n       {} --help\n".format(
        PROG, "|".join(COMMANDS), PROG
    )


def _usage():
    return """\
{short}
Generate, describe and validate synthetic test data. On first use (and whenever
requirements.txt changes) this creates a virtual environment and installs the pinned
requirements; afterwards it starts the frontend for FORMAT directly.

commands:
  describe    print the generation plan and feasibility analysis of a schema
  generate    write the data set to --out
  validate    check the written data set and write validation_report.json

formats:
  {formats}

frontend options (passed through; see `<command> --format FORMAT --help`):
  --schema PATH  --out DIR  --seed N  --rows TABLE=N ...  --scale F
  --profile fast|realistic|dirty

bootstrap options:
  -h, --help     show this help (no virtual environment is created)
  --reinstall    rebuild the virtual environment even if it is up to date
  --setup        only make sure the virtual environment is ready, then exit

environment variables:
  DATAGEN_VENV               virtual environment path (default: {venv})
  DATAGEN_REQUIREMENTS       requirements file (default: {req})
  DATAGEN_EXTRAS_DIR         folder of the extras' requirements-<extra>.txt (default: the repository)
  DATAGEN_BOOTSTRAP_DRY_RUN  if set (not 0): print the frontend command instead of running it

exit codes: 0 done (validate: all checks passed), 1 validate found failures,
2 bad input, 3 the virtual environment could not be set up, other: unexpected failure.
""".format(
        short=_short_usage(),
        formats=_format_names(),
        venv=os.path.join(ROOT, ".venv"),
        req=os.path.join(ROOT, "requirements.txt"),
    )


def _did_you_mean(word, choices):
    import difflib

    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return f" (did you mean '{lowered[word.lower()]}'?)"
    close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------- parsing


def parse_args(args):
    """Split the command line into (action, details).

    Returns ("help", None), ("setup", reinstall) or
    ("dispatch", (module, frontend_args, reinstall, extras)). Raises UsageError.
    """
    reinstall = False
    rest = []
    after_dashdash = False
    for arg in args:
        if arg == "--" and not after_dashdash:
            after_dashdash = True
        elif arg == "--reinstall" and not after_dashdash:
            reinstall = True
            continue
        rest.append(arg)

    setup = False
    while rest and rest[0].startswith("-") and rest[0] != "--":
        option = rest.pop(0)
        if option in ("-h", "--help"):
            return "help", None
        if option == "--setup":
            setup = True
            continue
        raise UsageError(
            "unknown option '{}' before the command (expected one of: {})".format(
                option, ", ".join(COMMANDS)
            )
        )
    if setup:
        if rest:
            raise UsageError(f"--setup takes no command (got '{rest[0]}')")
        return "setup", reinstall
    if not rest:
        raise UsageError("missing command (one of: {})".format(", ".join(COMMANDS)))

    command, frontend_args = rest[0], rest[1:]
    if command not in COMMANDS:
        raise UsageError(
            "unknown command '{}'{}; commands: {}".format(
                command, _did_you_mean(command, COMMANDS), ", ".join(COMMANDS)
            )
        )

    fmt = None
    engine = None
    wants_help = False
    i = 0
    while i < len(frontend_args):
        arg = frontend_args[i]
        if arg == "--":
            break
        if arg in ("-h", "--help"):
            wants_help = True
        if arg == "--format":
            if i + 1 >= len(frontend_args):
                raise UsageError(f"--format needs a value (one of: {_format_names()})")
            fmt = frontend_args[i + 1]  # last one wins, as in the frontends' own parser
            i += 1
        elif arg.startswith("--format="):
            fmt = arg[len("--format=") :]
        elif arg == "--engine" and i + 1 < len(frontend_args):
            engine = frontend_args[i + 1]
            i += 1
        elif arg.startswith("--engine="):
            engine = arg[len("--engine=") :]
        i += 1

    if fmt is None and command in FORMAT_COMMANDS and not wants_help:
        raise UsageError(
            f"missing --format FORMAT for '{command}' (one of: {_format_names()})"
        )
    if fmt is not None and ALIASES.get(fmt, fmt) not in FRONTENDS and not _venv_ready():
        # a format from a plugin is known only inside the environment; without one, a typo
        # must not cost a whole install
        raise UsageError(
            f"unknown format '{fmt}'{_did_you_mean(fmt, list(FRONTENDS) + list(ALIASES))}; formats: {_format_names()}",
            show_usage=False,
        )
    extras = [e for e in (VERB_EXTRAS.get(command), FORMAT_EXTRAS.get(ALIASES.get(fmt, fmt)),
                          ENGINE_EXTRAS.get(engine)) if e]
    extras += [e for (verb, option), e in OPTION_EXTRAS.items() if verb == command and any(
        a == option or a.startswith(option + "=") for a in frontend_args)]
    return "dispatch", (APP_MODULE, [command] + frontend_args, reinstall, sorted(set(extras)))


# --------------------------------------------------------------------------- venv


def _venv_path():
    return os.path.abspath(os.environ.get("DATAGEN_VENV") or os.path.join(ROOT, ".venv"))


def _venv_ready():
    """The environment exists and matches the requirements (the ready path's own test)."""
    try:
        requirements = os.path.abspath(
            os.environ.get("DATAGEN_REQUIREMENTS") or os.path.join(ROOT, "requirements.txt")
        )
        return _is_ready(_venv_path(), expected_marker(requirements))
    except SetupError:
        return False


def venv_python(venv):
    if os.name == "nt":
        return os.path.join(venv, "Scripts", "python.exe")
    return os.path.join(venv, "bin", "python")


def expected_marker(requirements):
    try:
        with open(requirements, "rb") as f:
            content = f.read()
    except OSError as exc:
        source = (
            "DATAGEN_REQUIREMENTS"
            if os.environ.get("DATAGEN_REQUIREMENTS")
            else "the repository"
        )
        raise SetupError(
            f"cannot read the requirements file {requirements} (from {source}): {exc.strerror or exc}"
        ) from None
    return "requirements-sha256: {}\npython: {}-{}.{}\n".format(
        hashlib.sha256(content).hexdigest(),
        sys.implementation.name,
        *sys.version_info[:2],
    )


def _read_marker(venv):
    try:
        with open(os.path.join(venv, MARKER_NAME), encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _is_ready(venv, marker):
    return _read_marker(venv) == marker and os.path.exists(venv_python(venv))


def _rebuild_reason(venv, marker, reinstall):
    if not os.path.lexists(venv):
        return f"creating virtual environment in {venv} (first run only) ..."
    if reinstall:
        return f"--reinstall: rebuilding virtual environment in {venv} ..."
    current = _read_marker(venv)
    if current is None:
        why = "it has no datagen install marker"
    elif current.splitlines()[:1] != marker.splitlines()[:1]:
        why = "requirements changed"
    elif current != marker:
        why = "the Python version changed"
    else:
        why = "its python is missing"
    return f"rebuilding virtual environment in {venv} ({why}) ..."


def _lock(fileobj):
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, renames still keep the old venv safe
        return
    try:
        fcntl.flock(fileobj.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _say(
            "waiting for another datagen process that is setting up the environment ..."
        )
        fcntl.flock(fileobj.fileno(), fcntl.LOCK_EX)


def _remove_stale_siblings(venv):
    """Remove <venv>.tmp-<pid> / <venv>.old-<pid> left by a killed install (we hold the lock)."""
    import shutil

    parent, name = os.path.split(venv)
    for entry in os.listdir(parent):
        for infix in (".tmp-", ".old-"):
            prefix = name + infix
            if entry.startswith(prefix) and entry[len(prefix) :].isdigit():
                shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _run_step(cmd, log, what):
    import subprocess

    log.write(("\n$ " + " ".join(cmd) + "\n").encode())
    log.flush()
    try:
        code = subprocess.call(
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    except OSError as exc:
        log.write(f"could not start: {exc}\n".encode())
        log.flush()
        raise SetupError(f"{what} could not start: {exc}") from None
    if code != 0:
        raise SetupError(f"{what} failed (exit code {code})")


def _retarget(tmp, venv):
    """Replace the temporary venv path by the final one in bin/ scripts and pyvenv.cfg."""
    old, new = os.fsencode(tmp), os.fsencode(venv)
    bindir = os.path.dirname(venv_python(tmp))
    paths = [os.path.join(tmp, "pyvenv.cfg")]
    paths += [e.path for e in os.scandir(bindir) if e.is_file(follow_symlinks=False)]
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        if old in data:
            with open(path, "wb") as f:
                f.write(data.replace(old, new))


def _swap_into_place(tmp, venv):
    import shutil

    old = None
    if os.path.lexists(venv):
        old = f"{venv}.old-{os.getpid()}"
        os.rename(venv, old)
    try:
        os.rename(tmp, venv)
    except OSError:
        if old is not None:
            os.rename(old, venv)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _tail(path, n):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return lines[-n:]


def _report_failure(error, log_path, venv, requirements, had_venv):
    _say(f"setting up the virtual environment failed: {error}")
    tail = _tail(log_path, LOG_TAIL_LINES)
    _say("full log: {}{}".format(log_path, "; last lines:" if tail else ""))
    for line in tail:
        sys.stderr.write("    | " + line + "\n")
    if had_venv:
        _say(f"the previous virtual environment in {venv} was left unchanged.")
    if any("ensurepip" in line for line in tail):
        _say(
            "hint: this Python cannot create virtual environments with pip; on Debian/Ubuntu "
            "install the python3-venv package."
        )
    _say(
        f"next: fix the cause shown above (a requirement in {requirements}, network access, a proxy or "
        "PIP_INDEX_URL), then rerun the same command; it retries automatically. Use "
        "--reinstall to force a clean rebuild."
    )


def ensure_venv(venv, requirements, reinstall):
    """Return the venv's python, (re)building the venv first if needed. Raises SetupError."""
    marker = expected_marker(requirements)
    if not reinstall and _is_ready(venv, marker):
        return venv_python(venv)
    if sys.version_info[:2] < MIN_PYTHON:
        raise SetupError(
            "datagen needs Python {}.{} or newer to build its environment, but {} is {}.{}; "
            "run this script with a newer python3".format(
                *MIN_PYTHON, sys.executable, *sys.version_info[:2]
            )
        )

    parent, name = os.path.split(venv)
    log_path = os.path.join(parent, name + "-install.log")
    try:
        os.makedirs(parent, exist_ok=True)
        with open(log_path, "a+b") as log:  # also the lock file
            _lock(log)
            if reinstall or not _is_ready(
                venv, marker
            ):  # another process may have built it
                _build(venv, requirements, marker, reinstall, log, log_path)
    except OSError as exc:
        raise SetupError(f"cannot set up {venv}: {exc}") from None
    return venv_python(venv)


def _build(venv, requirements, marker, reinstall, log, log_path):
    """Build into <venv>.tmp-<pid> and swap it into place; the caller holds the lock."""
    import shutil
    import time

    had_venv = os.path.lexists(venv)
    if had_venv and not os.path.exists(os.path.join(venv, "pyvenv.cfg")):
        raise SetupError(
            f"{venv} exists but is not a virtual environment; refusing to replace it. "
            "Move it away or point DATAGEN_VENV elsewhere."
        )
    log.seek(0)
    log.truncate()
    log.write(
        f"datagen bootstrap install, {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode()
    )
    _say(_rebuild_reason(venv, marker, reinstall))
    _say(f"installing {requirements} (log: {log_path}) ...")
    started = time.monotonic()
    tmp = f"{venv}.tmp-{os.getpid()}"
    pip_install = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    pip_install += ["--progress-bar", "off", "-r", requirements]
    try:
        _remove_stale_siblings(venv)
        _run_step(
            [sys.executable, "-m", "venv", "--prompt", os.path.basename(venv), tmp],
            log,
            "creating the virtual environment",
        )
        _run_step(
            [venv_python(tmp), *pip_install], log, f"pip install -r {requirements}"
        )
        with open(os.path.join(tmp, MARKER_NAME), "w", encoding="utf-8") as f:
            f.write(marker)
        _retarget(tmp, venv)
        _swap_into_place(tmp, venv)
    except (SetupError, OSError) as exc:
        reason = exc
        if isinstance(exc, OSError):
            log.write(f"error: {exc}\n".encode())
            log.flush()
            reason = f"{exc.filename or ''}: {exc.strerror or exc}"
        _report_failure(reason, log_path, venv, requirements, had_venv)
        raise SetupError(None) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _say(f"virtual environment ready ({time.monotonic() - started:.1f} s).")


# --------------------------------------------------------------------------- extras


def extras_dir():
    return os.environ.get("DATAGEN_EXTRAS_DIR") or ROOT


def extra_requirements(name):
    return os.path.join(extras_dir(), f"requirements-{name}.txt")


def available_extras():
    """The extras that have a requirements-<extra>.txt (what --setup installs)."""
    names = set(VERB_EXTRAS.values()) | set(FORMAT_EXTRAS.values())
    prefix, suffix = "requirements-", ".txt"
    for entry in os.listdir(extras_dir()):
        if entry.startswith(prefix) and entry.endswith(suffix):
            names.add(entry[len(prefix) : -len(suffix)])
    return sorted(n for n in names if n and os.path.exists(extra_requirements(n)))


def ensure_extra(venv, python, name):
    """Install extra ``name`` into the venv unless its marker matches its requirements file.
    Raises SetupError (the venv stays usable for everything else)."""
    requirements = extra_requirements(name)
    marker = expected_marker(requirements)
    marker_path = os.path.join(venv, f".datagen-extra-{name}.sha256")
    try:
        with open(marker_path, encoding="utf-8") as f:
            if f.read() == marker:
                return
    except OSError:
        pass
    parent, vname = os.path.split(venv)
    log_path = os.path.join(parent, vname + "-install.log")
    import time

    try:
        with open(log_path, "a+b") as log:  # also the lock file, as for the venv itself
            _lock(log)
            log.write("\ndatagen extra {}, {}\n".format(name, time.strftime("%Y-%m-%d %H:%M:%S")).encode())
            _say(f"installing the {name} extra ({os.path.basename(requirements)}) ...")
            started = time.monotonic()
            cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                   "--progress-bar", "off", *(["--no-deps"] if name in NO_DEPS_EXTRAS else []), "-r", requirements]
            try:
                _run_step(cmd, log, f"pip install -r {requirements}")
            except SetupError as exc:
                log.flush()
                _report_failure(exc, log_path, venv, requirements, True)
                raise SetupError(None) from None
            with open(marker_path, "w", encoding="utf-8") as f:
                f.write(marker)
            _say(f"the {name} extra is ready ({time.monotonic() - started:.1f} s).")
    except OSError as exc:
        raise SetupError(f"cannot install the {name} extra into {venv}: {exc}") from None


# --------------------------------------------------------------------------- main


def _dispatch(python, module, args):
    cmd = (
        [python]
        + (["-P"] if sys.version_info >= (3, 11) else [])
        + ["-m", module]
        + args
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    if os.environ.get("DATAGEN_BOOTSTRAP_DRY_RUN", "") not in ("", "0"):
        import shlex

        sys.stdout.write(shlex.join(cmd) + "\n")
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if os.name == "nt":  # execv does not keep the exit code on Windows
            import subprocess

            return subprocess.call(cmd, env=env)
        os.execve(python, cmd, env)
    except OSError as exc:
        _say(f"cannot run {python}: {exc.strerror or exc}; try --reinstall")
        return EXIT_SETUP_FAILED


def _reopen_closed_standard_fds():
    """A closed stdin, stdout or stderr (``>&-``) gets /dev/null, so the run goes on normally and no
    file the run opens can become fd 1 by accident (the frontend inherits these descriptors)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the process's own stdout
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


def main(argv=None):
    _reopen_closed_standard_fds()
    args = sys.argv[1:] if argv is None else argv
    try:
        action, details = parse_args(args)
    except UsageError as exc:
        _say(str(exc))
        if exc.show_usage:
            sys.stderr.write(_short_usage() + "Run with --help for details.\n")
        return EXIT_USAGE
    if action == "help":
        sys.stdout.write(_usage())
        return 0

    venv = _venv_path()
    requirements = os.path.abspath(
        os.environ.get("DATAGEN_REQUIREMENTS") or os.path.join(ROOT, "requirements.txt")
    )
    reinstall = details if action == "setup" else details[2]
    extras = available_extras() if action == "setup" else details[3]
    try:
        python = ensure_venv(venv, requirements, reinstall)
        for name in extras:
            ensure_extra(venv, python, name)
    except SetupError as exc:
        if exc.args and exc.args[0]:
            _say(str(exc))
        return EXIT_SETUP_FAILED
    if action == "setup":
        return 0
    module, frontend_args, _, _ = details
    return _dispatch(python, module, frontend_args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.stderr.write("\ndatagen: interrupted\n")
        sys.exit(130)
