# The two newcomer commands: `make demo` and `make test`.
# Each sets up the project-local .venv first (a quick no-op once done).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test
setup:
	@bash tools/setup_env.sh

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) tools/demo.py
