"""pyproject.toml: the `kd` console script, the packages and files a wheel holds, and pins that agree with the
requirements files (requirements.txt is what the Spaces install; requirements-dev.txt adds the test tools)."""

from __future__ import annotations

import fnmatch
import importlib
import re
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


def test_every_pin_agrees_with_the_requirements_files():
    project = PYPROJECT["project"]
    declared = pins(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= pins(extra)
    required = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        required |= pins((ROOT / name).read_text().splitlines())
    assert declared == required
    assert pins(PYPROJECT["build-system"]["requires"])  # the build backend is pinned too


def test_a_wheel_holds_every_kd_package_and_the_static_page():
    setuptools = PYPROJECT["tool"]["setuptools"]

    def matched(name: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)

    packages = [".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "kd").rglob("__init__.py")]
    include = setuptools["packages"]["find"]["include"]
    assert len(packages) > 1 and all(matched(package, include) for package in packages)
    static = [f"static/{path.name}" for path in (ROOT / "kd" / "site" / "static").iterdir()]
    assert static and all(matched(name, setuptools["package-data"]["kd.site"]) for name in static)
