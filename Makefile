# Quick start: `make run` serves the tool with the practice LMS; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
export PORT

.PHONY: run test install install-test setup-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-deps

install: $(VENV)/.run-deps
install-test: $(VENV)/.test-deps

## make run: migrate SQLite in instance/, make the signing key, register the practice LMS, serve.
setup-dev: install
	DEV_LMS=1 $(BIN)/lti-tool db upgrade
	DEV_LMS=1 $(BIN)/lti-tool keys list
	DEV_LMS=1 $(BIN)/lti-tool devlms register
	@echo
	@echo "Give these to an LMS administrator:"
	@DEV_LMS=1 $(BIN)/lti-tool urls
	@echo

run: setup-dev
	DEV_LMS=1 exec $(BIN)/gunicorn -c config/gunicorn.conf.py 'lti_tool:create_app()'

## make test: the whole suite (PostgreSQL/Redis/Chromium tests skip with a reason where absent).
test: $(VENV)/.test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
