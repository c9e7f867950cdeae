PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench chaos package clean

# The virtual environment is rebuilt whenever a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m demo

test: $(STAMP)
	$(VENV)/bin/ruff check --quiet --select F,E9 --target-version py310 handler emulator chaos bench tools demo tests
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

clean:
	rm -rf $(VENV) dist .pytest_cache
