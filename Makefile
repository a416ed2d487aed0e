# Two commands do all set-up on a fresh machine with Python 3.11:
#   make run   - create .venv, install, migrate, load the demo MSP on an empty database, build
#                its KPIs, train the models, forecast its desk's demand, serve
#   make test  - create .venv, install, run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint install demo serve clean-demo

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"SuperHack needs Python 3.11, found {sys.version.split()[0]} (set PYTHON=/path/to/python3.11)"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py setup_demo
	@# KPIs, then the models, before serving: pages show predictions from the first request.
	@# Both are incremental: on a database already loaded they find nothing new and skip.
	$(PY) manage.py build_features
	$(PY) manage.py train --kind all --no-progress
	@# The desk's demand forecasts and capacity gap (about 25 s on the demo), so the Demand and
	@# Capacity pages show figures too; a later run replaces the same week's forecasts.
	$(PY) manage.py forecast_demand
	$(PY) manage.py serve

test: install
	$(PY) -m pytest -n auto -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
