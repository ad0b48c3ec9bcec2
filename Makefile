# Developer entry points. On a fresh clone with only Python 3.11 (no root needed):
#   make run                 migrate, seed the demo, serve http://127.0.0.1:8000 with worker + beat
#   make test [ARGS="-k x"]  ruff, migrations check, deploy check, pytest ARGS
# Both start a project-local PostgreSQL and Redis under .local/ unless DATABASE_URL / REDIS_URL
# are set, and stop them again at the end (scripts/devstack.py).

VENV := .venv
PYTHON := $(VENV)/bin/python
# Touched after a successful install: pip reruns only when a requirements file is newer.
INSTALLED := $(VENV)/.requirements-installed
DEVSTACK := $(PYTHON) scripts/devstack.py
ARGS ?=

.PHONY: run test venv shell clean-local

run: venv
	@$(DEVSTACK) run

test: venv
	@$(DEVSTACK) test $(ARGS)

shell: venv
	@$(DEVSTACK) shell

venv: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt | $(PYTHON)
	@echo "==> installing requirements-dev.txt into $(VENV)"
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check --requirement requirements-dev.txt
	@touch $@

# python3.11 first; python3 only if it is 3.11 or newer. A candidate must actually run
# (a pyenv shim can exist for a version that is not installed).
$(PYTHON):
	@python=""; \
	for candidate in python3.11 python3; do \
		if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
			python=$$candidate; break; \
		fi; \
	done; \
	if [ -z "$$python" ]; then \
		echo "make: Python 3.11 is required: install python3.11 (Debian/Ubuntu: apt-get install python3.11 python3.11-venv; macOS: brew install python@3.11)" >&2; \
		exit 1; \
	fi; \
	if ! "$$python" -c 'import ensurepip, venv' 2>/dev/null; then \
		echo "make: $$python cannot create virtualenvs: install its venv module (Debian/Ubuntu: apt-get install python3.11-venv)" >&2; \
		exit 1; \
	fi; \
	echo "==> creating $(VENV) with $$(command -v $$python)"; \
	"$$python" -m venv $(VENV)

# Stops the local servers first (devstack is stdlib-only: any python3 will do if the venv is
# gone), and keeps .local if they could not be stopped.
clean-local:
	@python=$(PYTHON); [ -x "$$python" ] || python=python3; \
	"$$python" scripts/devstack.py stop
	@echo "==> removing .local (local PostgreSQL and Redis data)"
	@rm -rf .local
