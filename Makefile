# Two commands on a fresh machine with Python 3.11:
#   make report   set up .venv from the lock file (when missing or stale), run the whole workflow
#   make test     set up the same way, run the tests
# Windows users without make: see README.md for the plain pip / snakemake / pytest commands.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all
PYTEST_ARGS ?=
# parallel test workers (pytest-xdist); 0 runs the tests in this process, one after another
TEST_WORKERS ?= 2

.PHONY: report test validate validate-chain power benchmark envs lock clean-outputs help

help:
	@echo "make report     set up .venv and run the workflow on the configured study (synthetic by default)"
	@echo "make test       set up .venv and run the tests"
	@echo "make validate   Monte Carlo validation of the estimators (outside CI; minutes)"
	@echo "make validate-chain  Monte Carlo over whole synthetic studies (REPLICATIONS=, SCALE=, SCENARIOS=; hours)"
	@echo "make power      power against the number of trainees on chain replications (TRAINEES=, REPLICATIONS=; hours)"
	@echo "make benchmark  time and peak memory of the register part and the effects at stated sizes"
	@echo "make envs       regenerate workflow/envs/*.yaml from the lock files"
	@echo "make lock       re-resolve requirements*.lock from pyproject.toml (needs the package index)"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

report: $(STAMP)
	$(BIN)/python -m mentorwijs doctor --part report
	$(BIN)/snakemake --cores $(CORES) all

# --dist loadfile: the tests of one file run on one worker, so a module-scoped fixture is built once
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

validate: $(STAMP)
	$(BIN)/python -m mentorwijs validate --config config.yaml

# the whole chain over synthetic studies (docs/validation/README.md); a killed run resumes
validate-chain: $(STAMP)
	$(BIN)/python -m mentorwijs validate --chain --config config.yaml --cores $(CORES) \
	    $(if $(REPLICATIONS),--replications $(REPLICATIONS)) $(if $(SCALE),--scale $(SCALE)) \
	    $(if $(SCENARIOS),--scenarios $(SCENARIOS))

power: $(STAMP)
	$(BIN)/python -m mentorwijs power --config config.yaml --cores $(CORES) \
	    $(if $(TRAINEES),--trainees $(TRAINEES)) $(if $(REPLICATIONS),--replications $(REPLICATIONS))

benchmark: $(STAMP)
	$(BIN)/python benchmarks/synthetic_study.py
	$(BIN)/python benchmarks/register_part.py
	$(BIN)/python benchmarks/effects.py

envs: $(STAMP)
	$(BIN)/python workflow/envs/generate.py

lock:
	uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
	    -o requirements.lock --no-header --annotation-style line
	uv pip compile pyproject.toml --universal --python-version 3.11 -c requirements.lock \
	    -o requirements-register.lock --no-header --annotation-style line

clean-outputs:
	rm -rf data/interim/* data/processed/* export/* reports/figures/* reports/tables/*.csv \
	    reports/*.html reports/*.pdf reports/provenance.json .snakemake/metadata
