# The two commands a newcomer needs (see README.md):
#   make run    set up, load demo data and serve the portal with its background jobs
#   make test   run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test install demo bench clean

# Local runs: DEBUG on, and emails written as files to var/mail/ rather than the terminal (the first
# reminder sweep over the demo data sends well over a hundred). Either can be overridden from the shell.
# The port is PORT (8000); the links printed and emailed follow it unless PORTAL_SITE_URL says otherwise.
# The first sweep runs as the jobs process starts (PORTAL_SWEEP_AT_START), not five minutes later.
LOCAL_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-1} EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend} \
	PORTAL_SITE_URL=$${PORTAL_SITE_URL:-http://127.0.0.1:$${PORT:-8000}} PORTAL_SWEEP_AT_START=$${PORTAL_SWEEP_AT_START:-1}

run: demo
	$(LOCAL_ENV) $(BIN)/honcho --no-prefix -f Procfile.dev start -p $${PORT:-8000}

demo: install
	$(LOCAL_ENV) $(BIN)/python manage.py migrate --noinput
	$(LOCAL_ENV) $(BIN)/python manage.py load_demo_data
	$(LOCAL_ENV) $(BIN)/python manage.py load_referral_demo
	$(LOCAL_ENV) $(BIN)/python manage.py load_quality_demo
	$(LOCAL_ENV) $(BIN)/python manage.py load_calendar_demo
	$(LOCAL_ENV) $(BIN)/python manage.py load_evidence_demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed node_modules/.package-lock.json

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Test-only tools from the npm registry (axe-core for the browser tests' accessibility checks). Without
# npm the portal still runs; the accessibility checks skip with their reason (and fail in CI).
node_modules/.package-lock.json: package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser tests' accessibility checks (axe-core) will skip"; fi

clean:
	rm -rf $(VENV) var staticfiles node_modules
