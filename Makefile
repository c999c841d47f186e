# Two commands on a fresh clone: `make demo` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install os-packages demo test lint bench clean stop notebooks lab pev2

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/workbench doctor
	$(BIN)/workbench report notebooks/tuning-report.ipynb --html reports/tuning-report.html \
	  --param scale=1 --param clients=8 --param duration=10 --param warmup=5 --param repeat=3

# JupyterLab on 127.0.0.1 with the embedded server started and the CLI's WORKBENCH_HOME; prints the
# URL. LAB_PORT=8890 picks the port (default 8888, or a free one).
lab: $(STAMP)
	$(BIN)/workbench lab $(if $(LAB_PORT),--port $(LAB_PORT))

os-packages:
	@bash scripts/os-packages.sh

test: $(STAMP) os-packages
	$(BIN)/ruff check workbench tests
	$(BIN)/pytest -q --durations=15

lint: $(STAMP)
	$(BIN)/ruff check workbench tests

bench: $(STAMP) os-packages
	@status=0; for b in bench/bench_load.py bench/bench_runs.py bench/bench_advisor.py \
	    bench/bench_timeline.py; do \
	  echo "== $$b"; $(BIN)/python "$$b" || status=1; done; \
	  $(BIN)/workbench server stop >/dev/null; exit $$status

notebooks: $(STAMP)
	export WORKBENCH_HOME=$${WORKBENCH_HOME:-$(CURDIR)/.workbench/notebooks}; \
	  $(BIN)/python scripts/refresh_notebooks.py; status=$$?; $(BIN)/workbench server stop; exit $$status

stop: $(STAMP)
	$(BIN)/workbench server stop

clean: stop
	rm -rf .workbench runs reports/*.html

# The offline plan viewer (workbench/static/pev2/pev2-viewer.js) is committed, built from the
# pinned versions in frontend/pev2/package-lock.json; this rebuilds it (needs node and npm).
pev2:
	cd frontend/pev2 && npm ci --no-audit --no-fund && node build.mjs
