# The two commands of the README:  make synth   |   make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
TOOLS  := .tools

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 18,20

.PHONY: synth test install dev tools system scan bench schema inventory clean

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime pyproject.toml
	$(PIP) install -e '.[dev,cdktn]'
	# deltalake 1.5 (the last to use the DynamoDB lock table), beside the venv's 1.6, for tests/deploy/test_delta_moto.py.
	$(PIP) install --no-deps --target $(TOOLS)/deltalake-1.5.1 deltalake==1.5.1
	@touch $@

$(TOOLS)/.installed:
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) cdktf-cli@0.21.0 cdktn-cli@0.24.0 azurite@3.37.0
	# cdktn-cli 0.24 needs Node >= 22.19: a private Node 22 for that one test, off the suite's PATH.
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/node22 node@22.23.3
	@touch $@

# Debian packages the report and its browser test need: Graphviz (`dot`, the architecture diagram)
# and Chromium (the headless-browser test of the HTML page). Installed with apt-get when missing and
# running as root; otherwise the command to run is printed and those tests say why they skip.
SYSTEM_PACKAGES := graphviz chromium fonts-dejavu-core
system:
	@if command -v dot >/dev/null && command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(SYSTEM_PACKAGES) (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	else echo "note: run 'sudo apt-get install $(SYSTEM_PACKAGES)' for the report's diagram and browser tests"; fi

install: $(VENV)/.runtime
dev: $(VENV)/.dev
tools: $(TOOLS)/.installed

## Synthesize the reference example into cdktf.out/ and print a summary.
synth: install
	$(VENV)/bin/cdktf-mlops synth examples/reference --out cdktf.out

## Scan cdktf.out/ with checkov (acknowledgements applied).
scan: dev
	$(VENV)/bin/cdktf-mlops scan --out cdktf.out

## Run the whole test suite (unit, synth, snapshots, schema, checkov, moto, cdktf CLI).
test: dev tools system
	PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/$(TOOLS)/node_modules/.bin:$$PATH" $(PY) -m pytest

bench: install
	$(PY) tools/bench.py

schema: install
	$(VENV)/bin/cdktf-mlops schema --output schemas/platform-spec.schema.json

## Regenerate docs/inventory.md (resource types per construct, recovery outputs) from the reference.
inventory: synth
	$(VENV)/bin/cdktf-mlops inventory --out cdktf.out --output docs/inventory.md

clean:
	rm -rf $(VENV) $(TOOLS) cdktf.out .pytest_cache
