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

.PHONY: run test after-training beside-training setup db model lint unit data-validate story-test e2e faults browser browser-deps bench clean

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

# The end-to-end tests: a real Rasa server with the trained model, the action server and the
# gateway (and Chromium where a test drives the widget, console or admin pages).
e2e: model browser-deps
	.venv/bin/pytest -m "e2e and not faults" -q -rs

# The fault tests: kill -9 of each process of a private stack with two gateways, a
# PostgreSQL restart and a Redis outage, counting every message (README: "Faults").
faults: model
	.venv/bin/pytest -m "faults" -q -rs

# The browser tests that need no model: Chromium against the gateway with a scripted Rasa.
browser: browser-deps
	.venv/bin/pytest -m "browser and not e2e" -q -rs

browser-deps:
	@bash scripts/install_browser.sh

# Every test, in two chains on the two cores, each running its steps one after the other
# (each step's output is printed when that step ends). One trains the model, then checks the data and the
# stories and runs the end-to-end tests against the real stack. The other runs what needs
# no model (lint and types, the unit tests, the browser tests against a scripted Rasa), then
# the fault tests, by which time the model is there (scripts.model waits for a build under
# way rather than starting a second). They share nothing: every PostgreSQL test has its own
# schema, every stack its own ports and files, and the fault tests their own PostgreSQL and Redis.
test: setup
	$(MAKE) --no-print-directory -j2 --output-sync=target after-training beside-training

# One goal per sub-make keeps each chain in order.
after-training:
	$(MAKE) --no-print-directory model
	$(MAKE) --no-print-directory data-validate
	$(MAKE) --no-print-directory story-test
	$(MAKE) --no-print-directory e2e

beside-training:
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory browser-deps
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory browser
	$(MAKE) --no-print-directory faults

bench: setup db model
	$(PY) -m bench.run

clean:
	rm -rf var/results var/test-* test-artifacts
