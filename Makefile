# VoxCliente — every command of the README is a target here.
# Virtual environments are created on first use: .venv (the project, Python
# 3.12 like the Lambda runtime), .venv-sam (aws-sam-cli, which pins its own
# boto3) and .venv-scan (checkov, which pins its own libraries).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT := $(shell scripts/find-python 3.12 2>/dev/null)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
SCAN_VENV := .venv-scan
# sam build (no container) looks for python3.12 on PATH: the project venv has it.
SAM_ENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0
# Local builds that the tests import use this machine's architecture.
# pip warns about every extra index location that lacks a package: not news.
PIP_NOISE := ^WARNING: Location .* is ignored
LOCAL_ARCH := $(shell uname -m | sed -e 's/aarch64/arm64/' -e 's/amd64/x86_64/')

.PHONY: help demo up stop check test lint format typecheck validate scan build package precompile unit chromium browser migrate erase services invoke invoke-preflight bench smoke load eval publish-web clean venv

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt
	@test -n "$(PYTHON_BOOT)" || { scripts/find-python 3.12; exit 1; }
	@echo "==> creating $(VENV) (Python 3.12) and installing development dependencies"
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@set -o pipefail; $(PY) -m pip install --quiet --upgrade pip 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@set -o pipefail; $(PY) -m pip install --quiet -r requirements-dev.txt 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -n "$(PYTHON_BOOT)" || { scripts/find-python 3.12; exit 1; }
	@echo "==> creating $(SAM_VENV) for aws-sam-cli"
	@test -x $(SAM_VENV)/bin/python || $(PYTHON_BOOT) -m venv $(SAM_VENV)
	@set -o pipefail; $(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@set -o pipefail; $(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $@

$(SCAN_VENV)/.installed: requirements-scan.txt
	@test -n "$(PYTHON_BOOT)" || { scripts/find-python 3.12; exit 1; }
	@echo "==> creating $(SCAN_VENV) for checkov"
	@test -x $(SCAN_VENV)/bin/python || $(PYTHON_BOOT) -m venv $(SCAN_VENV)
	@set -o pipefail; $(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@set -o pipefail; $(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $@

venv: $(VENV)/.installed $(SAM_VENV)/.installed $(SCAN_VENV)/.installed

demo: $(VENV)/.installed ## run the whole pipeline on this machine (AUDIO=... TRANSCRIPT=notes.txt|transcript.json EMAIL=... optional)
	@PYTHONPATH=layers/common:local $(PY) -m voxlocal.demo $(if $(AUDIO),--audio "$(AUDIO)") $(if $(TRANSCRIPT),--transcript "$(TRANSCRIPT)") $(if $(EMAIL),--email "$(EMAIL)")

# The deployed architecture on this machine until Ctrl-C: the web page, the HTTP
# API (template.yaml's routes, the JWT authorizer), moto's S3 (port 5000, for the
# AWS CLI), the queue, the schedule and a local mailbox; PORT=8000 by default.
up: $(VENV)/.installed ## the whole system on this machine: web page, API and mailbox on http://127.0.0.1:8000 (PORT=...)
	@PYTHONPATH=layers/common:local $(PY) -m voxlocal.up $(if $(PORT),--port $(PORT))

# Also stops an embedded PostgreSQL an interrupted run left behind, without the
# virtualenv if it is gone (the server's own pid file; SIGINT is its fast shutdown).
stop: ## stop what `make up` (or an interrupted `make demo`) left running, PostgreSQL included
	@if test -x $(PY); then PYTHONPATH=layers/common:local $(PY) -m voxlocal.up stop; \
	elif test -f .local-data/postgres/postmaster.pid; then \
	  pid=$$(head -n 1 .local-data/postgres/postmaster.pid); \
	  kill -INT "$$pid" 2>/dev/null && echo "stopped the embedded PostgreSQL (pid $$pid)" || true; \
	else echo "nothing to stop"; fi

# The inner loop: what can break while editing, without sam or a build. The
# three parts run side by side (two cores) and each prints its output whole.
check: $(VENV)/.installed ## lint, format check, type check, unit tests: the inner loop (no build, no sam)
	@$(MAKE) --no-print-directory -j 3 --output-sync=target lint typecheck check-unit

check-unit: $(VENV)/.installed
	@echo "==> pytest tests/unit"
	@$(PY) -m pytest tests/unit -q -p no:cacheprovider $(PYTEST_ARGS)

# `make test` also reports the layer's line coverage (pytest-cov; the TOTAL
# line at the end is the number). No threshold: it is there to be read.
test: COVERAGE_ARGS := --cov=voxcliente --cov-report=term:skip-covered
test: lint typecheck validate scan build chromium unit ## lint, format check, type check, sam validate, checkov, build, pytest with coverage

lint: $(VENV)/.installed ## ruff lint and format check
	@echo "==> ruff"
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## apply ruff's fixes and formatting
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

typecheck: $(VENV)/.installed ## mypy (strict) on the layer, the local tools, the tests and the scripts
	@echo "==> mypy"
	@$(VENV)/bin/mypy
	@# Every function is an app.py: checked one at a time (same module name).
	@for f in functions/*/app.py; do $(VENV)/bin/mypy --no-error-summary "$$f" || exit 1; done

validate: $(SAM_VENV)/.installed ## sam validate --lint and cfn-lint on template.yaml and its nested templates
	@echo "==> sam validate --lint"
	@$(SAM_ENV) $(SAM) validate --lint --region us-east-1
	@$(SAM_VENV)/bin/cfn-lint template.yaml templates/*.yaml

# The settings are in .checkov.yaml (offline, cloudformation). A finding is
# fixed in the template or skipped next to its resource with a written reason;
# checkov exits non-zero on any other. No update check, no download: CI
# reaches only the package registries.
scan: $(SCAN_VENV)/.installed ## checkov on template.yaml and templates/: 0 unexplained failures
	@echo "==> checkov"
	@CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE $(SCAN_VENV)/bin/checkov \
	  --config-file .checkov.yaml -f template.yaml $(addprefix -f ,$(wildcard templates/*.yaml))

# The layer's makefile build (layers/common/Makefile) learns the architecture
# from LAYER_ARCHITECTURE, always given together with the template's parameter.
build: $(VENV)/.installed $(SAM_VENV)/.installed ## sam build for this machine's architecture (no container)
	@echo "==> sam build (Architecture=$(LOCAL_ARCH))"
	@$(SAM_ENV) LAYER_ARCHITECTURE=$(LOCAL_ARCH) $(SAM) build --parameter-overrides Architecture=$(LOCAL_ARCH) \
	  >.aws-sam-build.log 2>&1 || { cat .aws-sam-build.log; exit 1; }
	@# sam prints "Commands you can use next" and its hints (Validate SAM template, Invoke
	@# Function, Test Function in the Cloud, Deploy: sam deploy --guided): not this project's commands.
	@sed -n '/^Build Succeeded/,/^Commands you can use next/p' .aws-sam-build.log \
	  | grep -v -e '^Commands you can use next' -e '^=\+$$' -e '^\[\*\] ' -e '^$$' || true
	@$(MAKE) --no-print-directory precompile

# ARCHITECTURE=x86_64 packages for x86_64 Lambdas (deploy with Architecture=x86_64 then).
ARCHITECTURE ?= arm64
package: $(VENV)/.installed $(SAM_VENV)/.installed ## sam build for AWS (ARCHITECTURE=arm64 by default), precompiled: what to deploy
	@echo "==> sam build --no-cached (Architecture=$(ARCHITECTURE))"
	@set -o pipefail; $(SAM_ENV) LAYER_ARCHITECTURE=$(ARCHITECTURE) $(SAM) build --no-cached --parameter-overrides Architecture=$(ARCHITECTURE) 2>&1 \
	  | grep -v -e '^Commands you can use next' -e '^=========================$$' -e '^\[\*\] \(Validate SAM template\|Invoke Function\|Test Function in the Cloud\|Deploy: sam deploy --guided\)'
	@$(MAKE) --no-print-directory precompile

# Lambda's code directories are read-only, so Python cannot cache bytecode
# there and recompiles every module at each cold start (about two thirds of
# the import time, see `make bench`). Ship the .pyc files, compiled by the
# runtime's Python version; unchecked-hash ones are used without stat-ing
# the sources.
precompile:
	@$(PY) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build >/dev/null
	@echo "==> precompiled .aws-sam/build (Python $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'))"

unit: $(VENV)/.installed ## pytest only (PYTEST_ARGS=... to pass options)
	@echo "==> pytest"
	@$(PY) -m pytest $(COVERAGE_ARGS) $(PYTEST_ARGS)

# Debian's chromium for tests/browser (installed when missing and running as root;
# otherwise it prints the exact command and the browser tests are skipped).
chromium:
	@scripts/install-chromium || test "$$(id -u)" -ne 0

browser: $(VENV)/.installed chromium ## the browser tests only: headless Chromium drives the web page on the `make up` stack (screenshots in out/screens/)
	@echo "==> pytest tests/browser"
	@$(PY) -m pytest tests/browser -q -p no:cacheprovider $(PYTEST_ARGS)

migrate: $(VENV)/.installed ## apply sql/ migrations to DATABASE_URL
	@PYTHONPATH=layers/common:local $(PY) -m voxlocal.migrate_cli

# What DELETE /meetings/{id} and DELETE /me do, for an operator (a request by
# email, a person without an account): same erasure, recorded as the operator's.
erase: $(VENV)/.installed ## erase a meeting or everything of a person: MEETING=<id> or EMAIL=<address>
	@test -n "$(MEETING)$(EMAIL)" -a -z "$(and $(MEETING),$(EMAIL))" || { \
	  echo "usage: make erase MEETING=<meeting id>    (one meeting: files, AssemblyAI transcript, texts, addresses)"; \
	  echo "       make erase EMAIL=<address>         (everything of that person, account included)"; exit 2; }
	@PYTHONPATH=layers/common:local $(PY) -m voxlocal.erase_cli \
	  $(if $(MEETING),--meeting "$(MEETING)") $(if $(EMAIL),--email "$(EMAIL)")

# Friendly function names (FN=...) -> logical ids in template.yaml.
FUNCTIONS := submit:SubmitFunction webhook:WebhookFunction acta:ActaFunction \
  upload_api:UploadApiFunction account_api:AccountApiFunction email_events:EmailEventsFunction \
  reconciler:ReconcilerFunction migrate:MigrateFunction
FN_ID = $(or $(word 2,$(subst :, ,$(filter $(subst -,_,$(FN)):%,$(FUNCTIONS)))),$(filter $(FN),$(foreach f,$(FUNCTIONS),$(word 2,$(subst :, ,$(f))))))
# Linux's Docker engine has no host.docker.internal unless it is mapped.
ADD_HOST := $(if $(filter Linux,$(shell uname -s)),--add-host host.docker.internal:host-gateway)

invoke: invoke-preflight ## sam local invoke (Docker): FN=webhook EVENT=events/api-webhook-assemblyai.json
	@$(MAKE) --no-print-directory build
	$(SAM_ENV) $(SAM) local invoke $(FN_ID) --event "$(EVENT)" --env-vars events/env.local.json $(ADD_HOST)

# What `make invoke` needs, checked before anything is installed or built.
invoke-preflight:
	@test -n "$(FN_ID)" || { echo "usage: make invoke FN=<name> EVENT=events/<file>.json"; \
	  echo "  names: $(foreach f,$(FUNCTIONS),$(word 1,$(subst :, ,$(f))))  (or the logical id)"; exit 2; }
	@test -f "$(EVENT)" || { echo "EVENT=$(EVENT): no such event file (see events/)"; exit 2; }
	@docker info >/dev/null 2>&1 || { \
	  echo "sam local invoke needs a running Docker engine; none was found."; \
	  echo "Use \`make demo\` to run the whole pipeline without Docker, or \`make unit PYTEST_ARGS='-m artifacts'\`"; \
	  echo "to run every built function in an isolated interpreter against local services."; exit 1; } >&2

services: $(VENV)/.installed ## the local services `make invoke` uses, until Ctrl-C (BIND=0.0.0.0 on Linux)
	@PYTHONPATH=layers/common:local $(PY) -m voxlocal.services $(if $(BIND),--bind $(BIND))

bench: $(VENV)/.installed ## every figure against its floor and goal, kept in bench/RESULTS.md (RUNS=9)
	@test -f .aws-sam/build/template.yaml || $(MAKE) --no-print-directory build
	@$(PY) scripts/bench.py $(if $(RUNS),--runs $(RUNS))

smoke: $(VENV)/.installed ## live check of AssemblyAI and OpenAI with real keys (SMOKE_ARGS=...)
	@PYTHONPATH=layers/common:local $(PY) scripts/smoke.py $(SMOKE_ARGS)

load: $(VENV)/.installed ## 200 meetings at once through the handlers, 20 database connections (LOAD_ARGS=...)
	@PYTHONPATH=layers/common:local $(PY) scripts/load.py $(LOAD_ARGS)

publish-web: $(VENV)/.installed ## upload web/ to the deployed stack's page bucket with config.json for Clerk (CLERK_PUBLISHABLE_KEY=pk_... STACK=voxcliente-dev CONFIG_ENV=dev)
	@PYTHONPATH=layers/common:local $(PY) scripts/publish_web.py $(if $(STACK),--stack-name "$(STACK)") $(if $(CONFIG_ENV),--config-env "$(CONFIG_ENV)")

eval: $(VENV)/.installed ## score acta quality on eval/cases (OPENAI_API_KEY: real models; RUNS=3 MODELS=a,b)
	@PYTHONPATH=layers/common:local $(PY) -m voxlocal.evaluation $(if $(RUNS),--runs $(RUNS)) $(if $(MODELS),--models $(MODELS))

clean: ## stop what runs locally, remove build output, virtual environments and demo output
	@$(MAKE) --no-print-directory stop
	rm -rf .aws-sam .aws-sam-build.log $(VENV) $(SAM_VENV) $(SCAN_VENV) out .pytest_cache .mypy_cache .ruff_cache .coverage
