# Two commands set up a fresh machine:
#   make local   install, start the embedded emulator, converge site.yml, print a summary
#   make test    install, lint, run every test (pytest + molecule)
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
INV ?= inventories/local

.PHONY: setup local emulator-start emulator-stop emulator-reset plan deploy rollback teardown lint pytest molecule test summary bench

setup:
	@scripts/bootstrap.sh

emulator-start: setup
	@$(BIN)/python -m emulator start

emulator-stop:
	@$(BIN)/python -m emulator stop

emulator-reset: setup
	@$(BIN)/python -m emulator reset

local: emulator-start
	$(BIN)/ansible-playbook site.yml -i inventories/local
	@$(BIN)/python scripts/summary.py -i inventories/local

summary: setup
	@$(BIN)/python scripts/summary.py -i $(INV)

plan: setup
	$(BIN)/ansible-playbook site.yml -i $(INV) --check --diff

deploy: setup
	$(BIN)/ansible-playbook site.yml -i $(INV) --tags deploy

rollback: setup
	$(BIN)/ansible-playbook playbooks/rollback.yml -i $(INV)

teardown: setup
	$(BIN)/ansible-playbook playbooks/teardown.yml -i $(INV) -e confirm_teardown=$(CONFIRM)

lint: setup
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --profile production

pytest: setup
	$(BIN)/python -m pytest

molecule: setup
	cd $(CURDIR) && $(BIN)/molecule test -s default

test: lint pytest molecule

bench: setup
	$(BIN)/python scripts/bench.py
