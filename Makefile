# Developer and CI entry points. See DESIGN.md, "Contracts that scripts and checks rely on".
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_DEPS := tests/harness/install_system_deps.sh
# make bench ONLY=startup runs one area
ONLY ?=

.PHONY: help venv run test test-setup lint bench package clean

help:
	@echo "make venv      create .venv with the dev extras (no-op when up to date)"
	@echo "make run       open the app on the embedded demo workspace (needs a display)"
	@echo "make test      system libraries, venv, then the whole pytest suite"
	@echo "make lint      ruff check, ruff format --check, mypy"
	@echo "make bench     all benchmarks; ONLY=<area> for one (writes build/bench/<area>.json)"
	@echo "make package   installers (not implemented yet)"
	@echo "make clean     remove build outputs and caches (keeps .venv)"

venv: $(STAMP)
	@:

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || $(SYSTEM_DEPS) venv
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies may have changed.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

run: venv
	@$(SYSTEM_DEPS) qt
	@if [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
	    echo "make run: no display (neither DISPLAY nor WAYLAND_DISPLAY is set)." >&2; \
	    echo "  On a headless machine, run it under a virtual X server:" >&2; \
	    echo "      tests/harness/install_system_deps.sh x11 && xvfb-run -a make run" >&2; \
	    echo "  or take a screenshot of a view instead:" >&2; \
	    echo "      QT_QPA_PLATFORM=offscreen $(BIN)/mlops-desktop screenshot --view experiments --out experiments.png" >&2; \
	    exit 1; \
	fi
	$(BIN)/mlops-desktop

test-setup:
	@$(SYSTEM_DEPS) test
	@$(MAKE) --no-print-directory venv

# Keep pytest the last command: CI reads its closing summary line.
test: test-setup
	$(BIN)/python -m pytest

# Runs every checker even when an earlier one fails, then fails if any did.
lint: venv
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

bench: venv
	@$(SYSTEM_DEPS) qt
	$(BIN)/python -m tests.benchmarks.run $(if $(ONLY),--only $(ONLY))

package:
	@echo "make package: not implemented yet: see issue 10" >&2
	@exit 2

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
