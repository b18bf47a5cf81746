"""Set up a local virtual environment, then run the system or the full test suite.

Only the Python standard library is used here, so this works on a fresh machine with
nothing but Python 3.11+:

    python3 dev.py run      # create .venv, install requirements, run `python main.py`
    python3 dev.py test     # create .venv, install dev requirements, run every check

The browser tests drive the system's Chromium (Debian package `chromium`), and the load
balancer test runs nginx (Debian package `nginx`) in front of two nodes; `test` installs
each with apt-get when it is missing and this runs as root. With CI=true one that cannot
be installed fails the run (the tests never skip in CI).

Dependencies are reinstalled only when a requirements file changes (a hash is kept
inside the virtual environment).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 11)


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


def requirements_digest(requirements: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted({requirements, ROOT / "requirements.txt"}):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment(requirements: Path) -> Path:
    if sys.version_info < MIN_PYTHON:
        sys.exit(f"Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+ is required, this is {sys.version}")
    python = venv_python()
    if not python.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    marker = VENV / f".installed-{requirements.name}"
    wanted = requirements_digest(requirements)
    if not marker.exists() or marker.read_text() != wanted:
        print(f"installing {requirements.name} into {VENV}", flush=True)
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-r", str(requirements)], check=True)
        marker.write_text(wanted)
    return python


BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def ensure_browser() -> bool:
    """Chromium for the browser tests: found, or installed from Debian's packages."""
    if os.environ.get("CHROMIUM_PATH") or any(shutil.which(name) for name in BROWSERS):
        return True
    return install_package("chromium", "the browser tests") and any(
        shutil.which(name) for name in BROWSERS
    )


def find_nginx() -> str | None:
    # /usr/sbin is not on every PATH (a non-root shell).
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


def ensure_nginx() -> bool:
    """nginx for the load balancer test (tests/cluster/test_nginx.py): found, or installed
    from Debian's packages. Only the binary is used; the test runs it on its own config."""
    return find_nginx() is not None or (
        install_package("nginx", "the load balancer test") and find_nginx() is not None
    )


def install_package(package: str, purpose: str) -> bool:
    """apt-get install `package` (as root); False when that is not possible here."""
    apt = shutil.which("apt-get")
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if apt is None or not is_root:
        print(f"{package} is missing; install it (e.g. `apt-get install -y {package}`)", flush=True)
        return False
    print(f"installing {package} for {purpose} (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", "--no-install-recommends", package]
    # Every wait on the outside world is bounded: a stuck mirror must not hang the tests.
    try:
        if subprocess.run(install, env=env, timeout=900).returncode != 0:
            subprocess.run([apt, "update", "-q"], env=env, timeout=600, check=False)
            return subprocess.run(install, env=env, timeout=900, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        print(f"installing {package} timed out", flush=True)
        return False
    return True


def parallel(pytest_args: list[str]) -> list[str]:
    """Worker processes for the suite (pytest-xdist), one per core up to four: most tests
    wait on sockets and databases, so this halves the wall time on two cores. Each worker
    has its own databases, ports and browser. `-n 0` (or any -n) overrides."""
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in pytest_args):
        return []
    return ["-n", str(min(4, os.cpu_count() or 1))]


def run_checks(python: Path, pytest_args: list[str]) -> int:
    steps: list[tuple[str, list[str]]] = [
        ("ruff check", [str(python), "-m", "ruff", "check", "."]),
        ("ruff format --check", [str(python), "-m", "ruff", "format", "--check", "."]),
        ("mypy", [str(python), "-m", "mypy"]),
        ("import-linter", [str(python.parent / "lint-imports"), "--no-cache"]),
        ("pytest", [str(python), "-m", "pytest", *parallel(pytest_args), *pytest_args]),
    ]
    failed: list[str] = []
    print("\n=== browser ===", flush=True)
    if not ensure_browser():
        if in_ci():
            failed.append("browser (Chromium missing)")
        else:
            print("browser tests will be skipped: no Chromium", flush=True)
    print("\n=== nginx ===", flush=True)
    if not ensure_nginx():
        if in_ci():
            failed.append("nginx (missing: the load balancer test cannot run)")
        else:
            print("the load balancer test will be skipped: no nginx", flush=True)
    for name, command in steps:
        print(f"\n=== {name} ===", flush=True)
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", flush=True)
        return 1
    print("\nall checks passed", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        python = ensure_environment(ROOT / "requirements.txt")
        # Replace this process so Ctrl-C and SIGTERM reach main.py directly.
        os.chdir(ROOT)
        os.execv(str(python), [str(python), str(ROOT / "main.py"), *rest])
    python = ensure_environment(ROOT / "requirements-dev.txt")
    return run_checks(python, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
