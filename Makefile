# The newcomer commands: `make demo`, `make test` and `make lint`.
# Each sets up the project-local .venv first (a quick no-op once done).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint
setup:
	@bash tools/setup_env.sh

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) tools/demo.py

# Import order and style (settings in setup.cfg); `isort .` fixes the order.
lint: setup
	$(VENV)/bin/isort --check-only --diff .
	$(VENV)/bin/flake8 .
