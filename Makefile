PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench chaos package setup check clean

# The virtual environment is rebuilt whenever a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt requirements-ops.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m tools.tccli_spec >/dev/null  # Tencent's API spec, the tests' judge: the pinned tccli wheel, not installed
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m demo

test: $(STAMP)
	$(VENV)/bin/ruff check --quiet --select F,E9 --target-version py310 handler emulator chaos bench tools demo tests deploy
	$(PY) -m pytest -q

# Seeded fault-injection runs against the emulator; a short version runs inside `make test`.
chaos: $(STAMP)
	$(PY) -m chaos --runs 200

# Benchmarks on the emulator: API calls and wall time beside each workload's lower bound.
bench: $(STAMP) package
	$(PY) -m bench

# The SCF deploy package: handler/ plus runtime wheels for the target runtime, no tests or emulator.
package: $(STAMP)
	$(PY) -m tools.package

# Operator commands (deploy/README.md): provision a deployment, then prove it cannot lose a notification.
# GROUPS="asg-aaaaaaaa asg-bbbbbbbb" [REGION=ap-guangzhou] [DRY_RUN=1] [FUNCTION=clb-unbind] [JSON=1]
# They honour CLB_UNBIND_ENDPOINT and take credentials as deploy/cloud.py says.
yes = $(filter 1 true yes,$(1))
OPS_FLAGS = $(foreach g,$(GROUPS),--group $(g)) $(if $(REGION),--region $(REGION)) $(if $(FUNCTION),--function $(FUNCTION))

setup: $(STAMP)
	$(PY) -m deploy setup $(OPS_FLAGS) $(if $(call yes,$(DRY_RUN)),--dry-run)

check: $(STAMP)
	$(PY) -m deploy check $(OPS_FLAGS) $(if $(call yes,$(JSON)),--json)

clean:
	rm -rf $(VENV) dist .pytest_cache
