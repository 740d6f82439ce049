# `make run` and `make test` set themselves up on a machine with only Python 3.11+, pip and venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-scale lint bench bench-scale image compose-check clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@$(PY) -m bot run

test: $(STAMP)
	@$(PY) -m ruff check .
	@$(PY) -m mypy core
	@$(PY) -m pytest

# The multi-process test alone: three `rapport run` behind HAProxy on PostgreSQL
# (RAPPORT_TEST_POSTGRES_URL; `make test` runs it too).
test-scale: $(STAMP)
	@$(PY) -m pytest tests/scale tests/ops

lint: $(STAMP)
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .

bench: $(STAMP)
	@$(PY) -m bench

bench-scale: $(STAMP)
	@$(PY) -m bench.scale

# The container image. BASE_IMAGE=rapport-base:bookworm builds on a base made from Debian's
# packages (deploy/debian-base.sh, root and debootstrap) where Docker Hub is out of reach.
BASE_IMAGE ?= python:3.11-slim-bookworm
image:
	@if [ "$(BASE_IMAGE)" = "rapport-base:bookworm" ]; then deploy/debian-base.sh; fi
	docker build --build-arg BASE_IMAGE=$(BASE_IMAGE) -t rapport .

compose-check:
	@test -f deploy/.env || { echo "copy deploy/.env.example to deploy/.env first"; exit 2; }
	docker-compose -f deploy/compose.yaml config -q && echo "deploy/compose.yaml is valid"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
