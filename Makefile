# Quick start: `make run` serves the tool with the practice LMS; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
export PORT

.PHONY: run test bench bench-quick install install-test setup-dev clean translations

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

## make bench: every benchmark (bench/) on SQLite and, where they answer, PostgreSQL + Redis, then the
## 300-learner load scenario (about 25 minutes in all); prints a table against the targets and writes
## bench/results/*.json. `make bench-quick` runs everything shortly, to check it works.
$(VENV)/.bench-deps: pyproject.toml $(VENV)/.test-deps
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(VENV)/.bench-deps
	$(BIN)/python bench/all.py $(BENCH_ARGS)

bench-quick: $(VENV)/.bench-deps
	$(BIN)/python bench/all.py --quick $(BENCH_ARGS)

## make translations: re-extract the UI strings, merge them into every language's .po, compile the .mo files.
## Then translate new (empty) entries and check `fuzzy` ones in lti_tool/translations/<lang>/LC_MESSAGES/messages.po,
## run it again, and commit both the .po and the .mo.
TRANSLATIONS := lti_tool/translations

translations: $(VENV)/.run-deps
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project=lti-tool --version=0.1.0 \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

clean:
	rm -rf $(VENV) .pytest_cache
