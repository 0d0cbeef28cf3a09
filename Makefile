# The README's commands. Each one sets up the virtual environment from uv.lock first, and
# runs against embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Use uv from PATH when there is one; otherwise install it from PyPI into .tools/.
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
DEV := $(PY) -m crm.dev
# What the development commands (run, manage, services, bench) set unless it is set already:
# DEBUG on, so that Django accepts the development secret key. The test suite sets its own.
DEVELOPMENT := DEBUG=$${DEBUG:-true}

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help run test lint format bench manage services stop venv clean vendor

help: ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

venv: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv) ## Create .venv from uv.lock
	@$(UV) sync --frozen --quiet --python $(PYTHON)

run: venv ## Serve the app with a worker and beat on http://127.0.0.1:8000
	@$(DEVELOPMENT) $(DEV) run

test: venv ## Run the whole test suite (ARGS="-k name" to narrow it)
	@$(DEV) exec -- $(PY) -m pytest $(ARGS)

# bandit (settings in pyproject.toml) prints nothing when it finds nothing; its report fails
# the target. Left out: bandit 1.9's "nosec encountered (B608), but no failed test" for an
# f-string or a nested call whose finding a `# nosec` did skip (PyCQA/bandit#1204, #1041).
lint: venv ## ruff, bandit, mypy, Django's checks and missing migrations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	! $(VENV)/bin/bandit -q -c pyproject.toml -r . 2>&1 | grep -v "but no failed test"
	@DJANGO_SETTINGS_MODULE=crm.settings_test $(DEV) exec -- sh -c '$(VENV)/bin/mypy . \
		&& $(PY) manage.py check --fail-level WARNING \
		&& $(PY) manage.py makemigrations --check --dry-run'

format: venv ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv ## Time the budgeted pages over HTTP (ARGS="--contacts 100000" for a quicker run)
	@$(DEVELOPMENT) $(DEV) exec -- $(PY) bench/run.py $(ARGS)

# Standard library only, so it needs no virtual environment; its output is committed.
vendor: ## Refresh static/vendor/ (font, icons) and the tests' axe-core from npm
	$(PYTHON) scripts/vendor.py $(ARGS)

manage: venv ## Run a manage.py command: make manage ARGS="createsuperuser"
	@$(DEVELOPMENT) $(DEV) manage $(ARGS)

services: venv ## Start the embedded PostgreSQL and Redis and leave them running
	@$(DEVELOPMENT) $(DEV) services

stop: venv ## Stop the embedded PostgreSQL and Redis
	@$(DEV) stop

clean: stop ## Remove the virtual environment and all local data (.data/)
	rm -rf $(VENV) .tools .data staticfiles
