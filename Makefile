# Two commands set up a fresh machine:
#   make local   install, start the embedded emulator, converge site.yml, print a summary
#   make test    install, lint, run every test (pytest + molecule)
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
INV ?= inventories/local

.PHONY: localstack-venv localstack-start localstack-stop molecule-localstack iam-documents deployer-policy setup local emulator-start emulator-stop emulator-reset plan deploy rollback teardown lint pytest molecule test summary bench

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

# yamllint and ansible-lint (playbooks, roles, inventories), ruff (every Python file, ruff.toml), and ansible-test sanity
# for the ecsops.platform collection (scripts/sanity.sh; its virtualenvs take about 2 minutes the first time).
lint: setup
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --profile production
	$(BIN)/ruff check .
	@scripts/sanity.sh

# tests/test_localstack.py needs LocalStack's open core in its own venv (skipped, saying why, without it).
# Two workers (pytest-xdist; tests/conftest.py schedules the session emulator's tests in one); PYTEST_ARGS= runs serially.
PYTEST_ARGS ?= -n 2 --durations=30
pytest: setup localstack-venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

localstack-venv:
	@scripts/localstack_venv.sh

localstack-start: setup localstack-venv
	@$(BIN)/python scripts/localstack_host.py start

localstack-stop:
	@$(BIN)/python scripts/localstack_host.py stop

# For users who run a licensed LocalStack (ECS, ELBv2, RDS, Auto Scaling): says why when it cannot run.
molecule-localstack: setup
	@if $(BIN)/python scripts/localstack_probe.py; then \
	  cd $(CURDIR) && $(BIN)/molecule test -s localstack; \
	else echo "molecule localstack: SKIPPED (the reason is above)"; fi

# Write the IAM documents an inventory applies, for review (no API call).
iam-documents: setup
	$(BIN)/ansible-playbook playbooks/iam_documents.yml -i $(INV) -e iam_documents_dir=$(CURDIR)/reports/iam

# Print the deployer policy for another project name / account.
deployer-policy: setup
	@$(BIN)/python scripts/deployer_policy.py --project $(or $(PROJECT),ecsops) --account $(or $(ACCOUNT),*)

molecule: setup
	cd $(CURDIR) && $(BIN)/molecule test -s default

test: lint pytest molecule

bench: setup
	$(BIN)/python scripts/bench.py $(ARGS)
