# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck bench evaluate fuzz chaos clean browser k8s

$(STAMP): pyproject.toml client/pyproject.toml requirements.lock requirements-dev.lock
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e ./client -e .
	touch $(STAMP)

## Start the embedded PostgreSQL (or DATABASE_URL), migrate, and serve the three services.
run: $(STAMP)
	$(BIN)/hotline run

## The browser tests drive Debian's Chromium (browser builds cannot be downloaded here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	  else echo "the browser tests need Debian's chromium: apt-get install chromium fonts-noto-cjk"; exit 1; fi; }

## Run the whole test suite against a real PostgreSQL (embedded, or TEST_DATABASE_URL).
test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .data .pytest_cache

## Generated requests over every operation of the three services; any 5xx fails (docs/robustness.md).
fuzz: $(STAMP)
	$(BIN)/python -m pytest -m fuzz tests/fuzz $(PYTEST_ARGS)

## Calls under load while each service is killed and the database crashes; 0 lost, 0 duplicated.
chaos: $(STAMP)
	$(BIN)/python -m pytest -m chaos tests/chaos -s $(PYTEST_ARGS)

## Benchmarks (print rates side by side with their baselines; results go to docs/benchmarks.md).
bench: $(STAMP)
	$(BIN)/python bench/bench_due.py
	$(BIN)/python bench/bench_sla.py
	$(BIN)/python bench/bench_request_cpu.py
	$(BIN)/python bench/bench_poll.py
	$(BIN)/python bench/bench_intake.py
	$(BIN)/python bench/bench_throughput.py
	$(BIN)/python bench/bench_notify.py
	$(BIN)/python bench/bench_assessment.py
	$(BIN)/python bench/bench_backlog.py
	$(BIN)/python bench/bench_console.py
	$(BIN)/python bench/bench_intake_reads.py

## The hotspot test and the cluster finder on generated years with planted surges and
## clusters and control years without (seeded; the figures are in docs/kpis.md); the
## classifier's candidate models compared on the corpus and the knowledge base's answers per
## question file (docs/classification.md).
evaluate: $(STAMP)
	$(BIN)/python bench/eval_hotspots.py
	$(BIN)/python bench/eval_clusters.py
	$(BIN)/python bench/eval_classifier.py
	$(BIN)/python bench/eval_alarms.py
	$(BIN)/python bench/eval_kb.py

## Render the Kubernetes manifests with their defaults (deploy/k8s/render.py --help for values).
k8s: $(STAMP)
	$(BIN)/python deploy/k8s/render.py > deploy/k8s/hotline.yaml
