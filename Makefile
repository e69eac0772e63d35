# Two commands do everything on a fresh machine:
#   make run   installs what is missing, trains a model if none matches the data, starts it all
#   make test  installs, then runs every test
# The other targets are the steps they are made of.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa
export TF_CPP_MIN_LOG_LEVEL ?= 2
export RASA_TELEMETRY_ENABLED ?= false
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: run test checks with-model setup db model lint unit data-validate story-test e2e browser-deps bench clean

run: setup db model
	$(PY) -m scripts.stack

setup:
	@bash scripts/setup.sh

db: setup
	@$(PY) -m scripts.db

model: setup
	@$(PY) -m scripts.model ensure

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache

unit: setup
	.venv/bin/pytest -m "not e2e and not browser" -q --durations=15

data-validate: model
	$(RASA) data validate --config config.yml --domain domain.yml --data data

story-test: model
	$(RASA) test core --model "$$($(PY) -m scripts.model path)" --stories tests/test_stories.yml \
		--endpoints endpoints.yml --fail-on-prediction-errors --out var/results/stories

e2e: model browser-deps
	.venv/bin/pytest -m "e2e or browser" -q -rs

browser-deps:
	@bash scripts/install_browser.sh

# Every test: lint and types, unit tests, the training data, the dialogue stories, and the
# end-to-end runs against a real Rasa server, action server, gateway and browser. Two chains
# on the two cores: lint and the unit tests need no model; the other chain trains it, then
# checks the data and the stories and runs the end-to-end tests (each chain's output is
# printed when it ends). They share nothing: every PostgreSQL test has its own schema, and
# the fault tests stop and restart private PostgreSQL and Redis servers of their own.
test: setup
	$(MAKE) --no-print-directory -j2 --output-sync=target checks with-model

checks: lint unit

with-model: model
	$(MAKE) --no-print-directory data-validate story-test e2e

bench: setup db model
	$(PY) -m bench.run

clean:
	rm -rf var/results var/test-* test-artifacts
