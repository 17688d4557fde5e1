# make run   - set everything up and serve the demo practice on http://127.0.0.1:5000
# make test  - set everything up and run the whole suite
# make bench - measure server time of the key pages on a large synthetic practice
# make screenshots - capture the key pages, populated with demo data, into docs/screenshots
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app backoffice
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test bench lint clean screenshots

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

# The load test needs an empty PostgreSQL database it may fill: BENCH_POSTGRES_URL=postgresql+psycopg://...
bench: $(VENV)/.dev
	@status=0; $(BIN)/python -m bench.pages || status=$$?; \
	$(BIN)/python -m bench.synchronous || status=$$?; \
	if [ -n "$(BENCH_POSTGRES_URL)" ]; then $(BIN)/python -m bench.load --database-url "$(BENCH_POSTGRES_URL)" || status=$$?; \
	else echo "Load test not run: set BENCH_POSTGRES_URL to an empty PostgreSQL database (see README)."; fi; \
	exit $$status

screenshots: $(VENV)/.dev
	$(BIN)/python -m docs.screenshots --out docs/screenshots

lint: $(VENV)/.dev
	$(BIN)/ruff check backoffice tests bench docs
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
