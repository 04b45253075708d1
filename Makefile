# Aftercare: the two commands a newcomer needs are `make run` and `make test`.
# Python 3.11 (what Lambda runs); python3 when python3.11 is not on PATH.
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint package bench clean translations fuzz soak

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs python3.11 (or python3) on PATH, or make PYTHON=/path/to/python ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/python -m devstack compile-translations

run: $(STAMP) translations
	$(BIN)/python -m devstack run

test: $(STAMP) translations
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

package: $(STAMP) translations
	$(BIN)/python -m devstack package

bench: $(STAMP) translations
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build .pytest_cache .devstack.json

# Property tests with twenty times the examples, from fresh random seeds. Pin what it finds with @example.
fuzz: $(STAMP) translations
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider tests/functional/test_webhooks_properties.py $(FUZZ_ARGS)

# Fault injection over 1,000 orders at 10% and 20% failed AWS calls; figures into bench/RESULTS.md.
soak: $(STAMP) translations
	$(BIN)/python -m bench.soak
