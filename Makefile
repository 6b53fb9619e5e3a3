# The two commands a newcomer needs: `make run` and `make test`.
.PHONY: run test test-unit test-fast lint bench screenshots setup setup-test clean-dev

VENV := .venv
PY := $(VENV)/bin/python

setup:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

## Start PostgreSQL, the broker, the three services and demo data. Ctrl-C stops everything.
run: setup
	$(PY) -m buurtsignaal.cli dev up

## The whole test suite: unit, integration (real PostgreSQL + broker) and end-to-end.
test: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

## Only the fast unit tests (no I/O), for the edit-test loop.
test-unit: setup
	$(VENV)/bin/pytest tests/unit -q

lint: setup
	$(VENV)/bin/ruff check .

## Every benchmark (numbers go to docs/performance.md and the docs each script names). Takes
## about 20 minutes on 2 cores; raw results land in bench/results/ (git-ignored).
bench: setup
	$(PY) bench/bench_detect.py
	$(PY) bench/bench_early_warning.py
	$(PY) bench/measure_pseudonymisation.py
	$(PY) bench/bench_pipeline.py
	$(PY) bench/bench_pipeline.py --detector-workers 2
	$(PY) bench/bench_scale.py

## Refresh docs/screenshots/ from the browser tests (a normal test run writes to a temp folder).
screenshots: setup-test
	BUURTSIGNAAL_SCREENSHOT_DIR=docs/screenshots $(VENV)/bin/pytest -q \
		tests/e2e/review/test_review_in_browser.py tests/e2e/learning/test_learning_loop.py

clean-dev:
	rm -rf data/dev
