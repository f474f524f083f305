# The newcomer commands: `make demo`, `make test`, `make lint` and `make docs`.
# Each sets up the project-local virtualenv first (a quick no-op once done):
# .venv with OpenMMLab's stack, or .venv-onedl with OneDL's (STACK=onedl).
STACK ?= openmmlab
ifeq ($(STACK),onedl)
VENV ?= .venv-onedl
else
VENV ?= .venv
endif
PY := $(VENV)/bin/python
export STACK VENV

.PHONY: setup demo test lint docs
setup:
	@bash tools/setup_env.sh

test: setup
	$(PY) -m pytest -q -n auto --dist loadfile

demo: setup
	$(PY) tools/demo.py

# Import order and style (settings in setup.cfg); `isort .` fixes the order.
# Through the venv's python, not its bin/ scripts: a script's shebang names
# the interpreter path it was installed with, which a moved venv no longer has.
lint: setup
	$(PY) -m isort --check-only --diff .
	$(PY) -m flake8 .

# The documentation site into docs/_build/html, warnings as errors. The
# benchmarks page shows the tables and plots rendered from the committed
# results files, so they are rendered first.
docs: setup
	$(PY) tools/analysis/render_benchmarks.py
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html
