# `make run` and `make test` set themselves up on a machine with only Python 3.11+, pip and venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

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

lint: $(STAMP)
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .

bench: $(STAMP)
	@$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
