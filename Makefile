PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench chaos package setup check emulator rollback teardown deadletters redrive clean

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
	$(PY) -m pytest -q -n 4

# Seeded fault-injection runs against the emulator; a short version runs inside `make test`.
chaos: $(STAMP)
	$(PY) -m chaos --runs 200

# Benchmarks on the emulator: API calls and wall time beside each workload's lower bound.
bench: $(STAMP) package
	$(PY) -m bench

# The SCF deploy package: handler/ plus runtime wheels for the target runtime, no tests or emulator.
package: $(STAMP)
	$(PY) -m tools.package

# The local emulator with the demo estate, from the venv; it prints what a second terminal exports.
PORT ?= 9000
emulator: $(STAMP)
	$(PY) -m emulator --port $(call q,$(PORT))

# Operator commands (deploy/README.md): provision a deployment, then prove it cannot lose a notification.
# GROUPS="asg-aaaaaaaa asg-bbbbbbbb" [REGION=ap-guangzhou] [DRY_RUN=1] [FUNCTION=clb-unbind] [JSON=1]
# [TRANSITION=NORMAL|EXTENSION] [CMQ_ENDPOINT=https://cmq-gz.public.tencenttdmq.com] (docs/regions.md).
# The watching in CLS (docs/alarms.md): [LOGSET=<logset id>] [TOPIC=<topic id>] [NOTICE=<alarm notice id>].
# They honour CLB_UNBIND_ENDPOINT and find credentials as handler/clb_unbind/credentials.py says. Every
# value reaches the shell single-quoted (q), and the tool validates it before any call. GNU make itself
# exits 2 for any failed command, so each target prints the command's own exit status (0 ok, 1 violated
# or failed, 2 usage/credentials/API) when it is not 0.
yes = $(filter 1 true yes,$(1))
q = '$(subst ','\'',$(1))'
OPS_FLAGS = $(foreach g,$(GROUPS),--group $(call q,$(g))) $(if $(REGION),--region $(call q,$(REGION))) \
	$(if $(FUNCTION),--function $(call q,$(FUNCTION))) $(if $(CMQ_ENDPOINT),--cmq-endpoint $(call q,$(CMQ_ENDPOINT))) \
	$(if $(LOGSET),--logset $(call q,$(LOGSET))) $(if $(TOPIC),--topic $(call q,$(TOPIC))) $(if $(NOTICE),--notice $(call q,$(NOTICE)))
status = || { code=$$?; echo "make $@: the command exited $$code" >&2; exit $$code; }

setup: $(STAMP)
	@$(PY) -m deploy setup $(OPS_FLAGS) $(if $(TRANSITION),--transition $(call q,$(TRANSITION))) \
		$(if $(call yes,$(DRY_RUN)),--dry-run) $(if $(VERSION),--version $(call q,$(VERSION))) $(status)

# Point the timer's alias back at VERSION (default: the previous version); one UpdateAlias (docs/operations.md).
rollback: $(STAMP)
	@$(PY) -m deploy rollback $(OPS_FLAGS) $(if $(VERSION),--version $(call q,$(VERSION))) \
		$(if $(call yes,$(DRY_RUN)),--dry-run) $(status)

check: $(STAMP)
	@$(PY) -m deploy check $(OPS_FLAGS) $(if $(call yes,$(JSON)),--json) $(status)

# Remove what setup created: a dry run unless CONFIRM=1 (DRY_RUN=1 keeps it dry); FORCE=1 deletes queues that hold messages.
teardown: $(STAMP)
	@$(PY) -m deploy teardown $(OPS_FLAGS) $(if $(and $(call yes,$(CONFIRM)),$(if $(call yes,$(DRY_RUN)),,y)),--yes) \
		$(if $(call yes,$(FORCE)),--force) $(status)

# Dead letters (docs/operations.md): list them; redrive ID=<msg id> (or ALL=1) [DRY_RUN=1] re-queues and then deletes.
deadletters: $(STAMP)
	@$(PY) -m deploy deadletters list $(OPS_FLAGS) $(status)

redrive: $(STAMP)
	@$(PY) -m deploy deadletters redrive $(OPS_FLAGS) $(foreach i,$(ID),--id $(call q,$(i))) $(if $(call yes,$(ALL)),--all) \
		$(if $(call yes,$(DRY_RUN)),--dry-run) $(status)

clean:
	rm -rf $(VENV) dist .pytest_cache
