# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
# Tests run against PostgreSQL; the machine's server with trust auth is the default.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sdr

.PHONY: demo test lint bench install install-dev clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The product on its embedded defaults: SQLite, eager tasks, offline drafter, demo data.
demo: $(VENV)/.installed
	env -u DATABASE_URL -u CELERY_BROKER_URL $(PY) manage.py demo

test: $(VENV)/.installed-dev
	DATABASE_URL=$(DATABASE_URL) $(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-dev
	@for script in bench/bench_*.py; do echo "== $$script"; DATABASE_URL=$(DATABASE_URL) $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) demo.sqlite3 staticfiles
