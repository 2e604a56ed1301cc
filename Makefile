# Two commands on a fresh machine: `make run` and `make test`.
# Everything else (the virtualenv, the packages, a private Redis) is bootstrapped here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench audit loadtest clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "Python 3.11 or newer is needed (PYTHON=$(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/helpline run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check ivr workers tests bench loadtest
	$(BIN)/ruff format --check ivr workers tests bench loadtest
	$(BIN)/mypy ivr workers bench loadtest

# Known vulnerabilities in what we install (needs the network: PyPI's JSON API or OSV).
audit: $(STAMP)
	$(BIN)/pip-audit --progress-spinner off --skip-editable

bench: $(STAMP)
	$(BIN)/python -m bench

# The line under load on loopback (a few minutes; figures in docs/reliability.md).
# LOADTEST_ARGS="--help" lists the knobs.
loadtest: $(STAMP)
	$(BIN)/python -m loadtest $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
