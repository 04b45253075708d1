# Aftercare: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test package bench lint clean translations

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/python -m devstack compile-translations

run: $(STAMP) translations
	$(BIN)/python -m devstack run

test: $(STAMP) translations
	$(BIN)/python -m pytest -q

package: $(STAMP) translations
	$(BIN)/python -m devstack package

bench: $(STAMP) translations
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build .pytest_cache
