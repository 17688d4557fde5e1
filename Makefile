# make run   - set everything up and serve the demo practice on http://127.0.0.1:5000
# make test  - set everything up and run the whole suite
# make bench - measure server time of the key pages on a large synthetic practice
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app backoffice
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test bench lint clean

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl-C stops it)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: lint
	$(BIN)/pytest

bench: $(VENV)/.dev
	$(BIN)/python -m bench.patient_search

lint: $(VENV)/.dev
	$(BIN)/ruff check backoffice tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
