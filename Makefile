# Post Archiver: the project's front door. `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_SAM := .venv-sam
SAM_CLI_VERSION := 1.170.0
CFN_LINT_VERSION := 1.58.0
# checkov pins its own boto3 (1.35), aws-sam-cli another (1.43): they cannot share .venv-sam.
VENV_CHECKOV := .venv-checkov
CHECKOV_VERSION := 3.3.30
EVENT ?= events/s3-put.json
# `make local`: the live local stack's port and where it keeps its archive between runs.
LOCAL_PORT ?= 4566
LOCAL_STATE ?= .local-state
# `make deploy`: the samconfig.toml environment (default, prod). `make deploy-local`: the local stack's name,
# and ENDPOINT=http://127.0.0.1:PORT to deploy into a running local AWS instead of a one-off embedded one.
CONFIG_ENV ?= default
STACK ?= post-archiver-local
ENDPOINT ?=
# The artifact built for this machine, to run locally what ships (see archiver/local/built.py).
HOST_DIR := .aws-sam/host
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
# The Lambda runtime brings boto3 (the layer does not ship it): the host build gets the dev pin.
RUNTIME_BOTO3 := $(shell grep -o 'boto3==[0-9.]*' pyproject.toml)
HOST_SOURCES := template.yaml layers/archiver/requirements.txt layers/archiver/Makefile functions/archiver/Makefile \
	scripts/build_layer.py $(shell find layers/archiver/archiver functions/archiver -type f -not -path '*/__pycache__/*')

# sam and cfn-lint only need *some* credentials and a region to run offline (validate, build).
# Real credentials in the caller's environment win; `deploy` uses the caller's own.
SAM_ENV := SAM_CLI_TELEMETRY=0 \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-testing} \
	AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-testing} \
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1}

# The Lambda runtime's interpreter, needed by `sam build` without a container. `python3.12 --version`
# must actually run: a pyenv shim can exist on PATH without a 3.12 selected.
define FIND_PY312
py312_dir=""; \
if python3.12 --version >/dev/null 2>&1; then \
	py312_dir="$$(dirname "$$(python3.12 -c 'import sys; print(sys.executable)')")"; \
else \
	for d in $$(pyenv root 2>/dev/null)/versions/3.12.*/bin "$$HOME"/.pyenv/versions/3.12.*/bin; do \
		if [ -x "$$d/python3.12" ]; then py312_dir="$$d"; fi; \
	done; \
fi; \
if [ -z "$$py312_dir" ]; then \
	echo "error: sam build needs python3.12: install Python 3.12 (the Lambda runtime)" \
		"e.g. \`pyenv install 3.12\` or your OS package" >&2; \
	exit 1; \
fi
endef

.PHONY: help setup setup-sam setup-checkov test test-quick lint validate build build-host check-build demo demo-fetch local invoke \
	invoke-built bench bench-scale bench-cold bench-fetch bench-sitemap bench-calls cost deploy deploy-local clean eval eval-language corpus realworld stress

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

setup: $(VENV)/.stamp ## Create .venv with the runtime and dev dependencies (idempotent)

$(VENV)/.stamp: pyproject.toml layers/archiver/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "error: $(PYTHON) is $$($(PYTHON) --version 2>&1); Python >= 3.11 is required" \
			"(set PYTHON=/path/to/python3.11+)" >&2; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r layers/archiver/requirements.txt -e '.[dev]'
	touch $@

setup-sam: $(VENV_SAM)/.stamp ## Create .venv-sam with aws-sam-cli and cfn-lint (idempotent)

$(VENV_SAM)/.stamp: Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "error: $(PYTHON) is $$($(PYTHON) --version 2>&1); Python >= 3.11 is required" >&2; exit 1; }
	test -x $(VENV_SAM)/bin/python || $(PYTHON) -m venv $(VENV_SAM)
	$(VENV_SAM)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_SAM)/bin/python -m pip install --quiet \
		aws-sam-cli==$(SAM_CLI_VERSION) cfn-lint==$(CFN_LINT_VERSION)
	touch $@

setup-checkov: $(VENV_CHECKOV)/.stamp ## Create .venv-checkov with checkov (idempotent)

$(VENV_CHECKOV)/.stamp: Makefile
	test -x $(VENV_CHECKOV)/bin/python || $(PYTHON) -m venv $(VENV_CHECKOV)
	$(VENV_CHECKOV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_CHECKOV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# Test workers: one per core by default; each has its own embedded local AWS. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto

test: setup setup-sam setup-checkov ## Lint, validate and build the template, then run all tests (in parallel)
	$(MAKE) lint
	$(MAKE) validate
	$(MAKE) build
	$(MAKE) build-host
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist worksteal

test-quick: setup ## The unit tests only (no AWS, no builds): the inner loop, under a minute
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist worksteal tests/unit

lint: setup ## ruff check
	$(VENV)/bin/ruff check .

validate: setup-sam setup-checkov ## cfn-lint, sam validate --lint and checkov on template.yaml
	$(SAM_ENV) $(VENV_SAM)/bin/cfn-lint template.yaml
	$(SAM_ENV) $(VENV_SAM)/bin/sam validate --lint --template-file template.yaml
	@# Every finding fails the build unless the template skips it with its reason (Metadata: checkov: skip).
	@# --skip-download: no calls to the Prisma Cloud API, the checks run offline.
	$(VENV_CHECKOV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet

build: setup-sam ## sam build (no container; needs python3.12) and check the artifact
	@$(FIND_PY312); \
	echo "using $$py312_dir/python3.12"; \
	set -x; \
	PATH="$$py312_dir:$$PATH" $(SAM_ENV) $(VENV_SAM)/bin/sam build --template-file template.yaml
	$(MAKE) check-build

check-build: ## Check .aws-sam/build is deployable (arm64 wheels, sizes, a .pyc for every module)
	$(PYTHON) scripts/check_build.py .aws-sam/build

build-host: $(HOST_DIR)/.stamp ## Build the artifact for this machine into .aws-sam/host (for invoke-built)

$(HOST_DIR)/.stamp: $(VENV_SAM)/.stamp pyproject.toml $(HOST_SOURCES)
	@$(FIND_PY312); \
	set -x; \
	rm -rf $(HOST_DIR); \
	PATH="$$py312_dir:$$PATH" LAYER_ARCH=$(HOST_ARCH) $(SAM_ENV) $(VENV_SAM)/bin/sam build \
		--template-file template.yaml --build-dir $(HOST_DIR)/build; \
	"$$py312_dir/python3.12" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
		--target $(HOST_DIR)/runtime $(RUNTIME_BOTO3); \
	echo "$$py312_dir/python3.12" > $(HOST_DIR)/interpreter
	$(PYTHON) scripts/check_build.py --arch $(HOST_ARCH) $(HOST_DIR)/build
	touch $@

demo: setup ## Archive the sample posts (and a site bundle with its images) into a local AWS; export to out/archive
	$(VENV)/bin/archiver local ingest events/samples/* events/bundles/* $(wildcard ../shared/seed/*) --export out/archive

demo-fetch: setup ## Fetch three local fixture sites on the schedule, twice (the second run only asks conditionally)
	$(VENV)/bin/python scripts/demo_fetch.py

local: setup ## A live local stack on 127.0.0.1:LOCAL_PORT (4566): drop files with `aws s3 cp`; Ctrl-C stops it
	$(VENV)/bin/archiver local up --port $(LOCAL_PORT) --state $(LOCAL_STATE)

invoke: setup ## Hand one event to the handler locally: make invoke EVENT=events/s3-put.json
	$(VENV)/bin/archiver local invoke $(EVENT)

invoke-built: setup build-host ## Run one event on the BUILT artifact, as Lambda would: make invoke-built EVENT=...
	$(VENV)/bin/archiver local invoke --built $(HOST_DIR) $(EVENT)

eval: setup ## Article text and images vs trafilatura and readability-lxml (text needs ../shared/corpus); updates docs/evaluation.md
	$(VENV)/bin/python scripts/eval_extraction.py --snippets --out docs/evaluation.md
	$(VENV)/bin/python scripts/eval_images.py --out docs/evaluation.md

corpus: setup ## Corpus invariants over ../shared/corpus; updates docs/corpus.md
	$(VENV)/bin/python scripts/corpus_report.py
	$(VENV)/bin/python -m pytest -q tests/corpus/test_corpus_invariants.py

REALWORLD_LOCAL ?= out/realworld-local

realworld: setup ## Real-world files vs their expected answers (tests/realworld); REALWORLD_LOCAL=dir holds those not committed; updates docs/corpus.md
	$(VENV)/bin/python scripts/realworld.py --local $(REALWORLD_LOCAL) --details out/realworld-findings.md

eval-language: setup ## Language detection accuracy on ../shared/corpus; updates docs/evaluation.md
	$(VENV)/bin/python scripts/eval_language.py --out docs/evaluation.md

bench-cold: setup build-host ## Cold import of the built artifact, with and without .pyc; updates docs/benchmarks.md
	$(VENV)/bin/python scripts/bench_cold_start.py --host $(HOST_DIR) --out docs/benchmarks.md

bench: setup build-host ## Every table of docs/benchmarks.md in under 10 minutes (scripts/bench_all.py)
	$(VENV)/bin/python scripts/bench_all.py --host $(HOST_DIR) --calls-baseline $(CALLS_BASELINE) --out docs/benchmarks.md

bench-scale: setup ## Fetching at issue 6's full scale, 25,000 posts (about 75 minutes); writes docs/benchmarks-at-scale.md
	$(VENV)/bin/python scripts/bench_fetch.py --hosts 50 --feeds-per-host 10 --entries 50 --make-target bench-scale \
		--out docs/benchmarks-at-scale.md

# The revision the storage calls are compared with: the store before issue 10's call budget.
CALLS_BASELINE ?= 2eb742f

cost: setup ## Cost per million posts and the memory size, from one post through the local stack; writes docs/cost.md
	$(VENV)/bin/python scripts/cost_model.py --out docs/cost.md

bench-calls: setup ## Storage calls (writes + reads) per input, now vs CALLS_BASELINE; updates docs/benchmarks.md
	$(VENV)/bin/python scripts/count_storage_calls.py --baseline $(CALLS_BASELINE) --out docs/benchmarks.md

bench-sitemap: setup ## A site whose sitemap index lists 50,000 pages, archived over scheduled runs; updates docs/benchmarks.md
	$(VENV)/bin/python scripts/bench_sitemap.py --urls 50000 --out docs/benchmarks.md

bench-fetch: setup ## 500 local feeds on 50 hosts, one entry each, fetched twice vs bare requests.get; updates docs/benchmarks.md
	$(VENV)/bin/python scripts/bench_fetch.py --hosts 50 --feeds-per-host 10 --entries 1 --out docs/benchmarks.md

stress: setup ## Hostile inputs and 1,000 ordinary ones through the local stack, pages in Chromium; writes docs/reliability.md
	@test -x /usr/bin/chromium || { echo "error: make stress opens pages in Debian's chromium:" \
		"apt-get install -y chromium" >&2; exit 1; }
	$(VENV)/bin/python -m pip install --quiet -e '.[stress]'
	$(VENV)/bin/python scripts/stress.py --out docs/reliability.md

deploy: build ## sam deploy to AWS (your credentials), --guided the first time: make deploy [CONFIG_ENV=prod]
	@if grep -q '^\[$(CONFIG_ENV)\.deploy\.parameters\]' samconfig.toml; then \
		set -x; SAM_CLI_TELEMETRY=0 $(VENV_SAM)/bin/sam deploy --config-env $(CONFIG_ENV); \
	else \
		echo "samconfig.toml has no [$(CONFIG_ENV).deploy.parameters] yet: a guided deploy, whose answers SAM saves there"; \
		set -x; SAM_CLI_TELEMETRY=0 $(VENV_SAM)/bin/sam deploy --guided --config-env $(CONFIG_ENV); \
	fi

deploy-local: setup ## Deploy template.yaml through the local CloudFormation (moto) and archive a sample through it
	$(VENV)/bin/archiver local deploy --stack $(STACK) \
		$(if $(ENDPOINT),--endpoint-url $(ENDPOINT),--drop events/samples/newswire-harbour-strike.txt)

clean: ## Remove build output and caches (keeps the venvs)
	rm -rf .aws-sam out .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './.venv*' -prune -exec rm -rf {} +
