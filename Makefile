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
LOCAL_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-1} EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}

run: demo
	$(LOCAL_ENV) $(BIN)/honcho --no-prefix -f Procfile.dev start

demo: install
	$(LOCAL_ENV) $(BIN)/python manage.py migrate --noinput
	$(LOCAL_ENV) $(BIN)/python manage.py load_demo_data
	$(LOCAL_ENV) $(BIN)/python manage.py load_referral_demo
	$(LOCAL_ENV) $(BIN)/python manage.py load_quality_demo
	$(LOCAL_ENV) $(BIN)/python manage.py load_calendar_demo
	$(LOCAL_ENV) $(BIN)/python manage.py load_evidence_demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

clean:
	rm -rf $(VENV) var staticfiles
