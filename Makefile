# The two commands of the README: `make run` and `make test`. Both work on a
# fresh clone: they create .venv, install the locked dependencies with uv and,
# for the tests, the system packages (PostgreSQL, Chromium) when missing.

PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
BIN := $(VENV)/bin
LOCALES := portal/locale
SYSTEM_PACKAGES := postgresql chromium fonts-noto-cjk poppler-utils libpangoft2-1.0-0 libharfbuzz-subset0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck install system-deps i18n i18n-extract i18n-compile clean validate-infra screenshots

run: install i18n-compile
	$(BIN)/portal migrate
	$(BIN)/portal demo --if-empty
	$(BIN)/portal serve

# Three phases (SQLite, PostgreSQL, browser) on xdist workers, a summary
# line each at the end: see tests/support/suite.py.
test: install system-deps i18n-compile lint
	$(BIN)/python -m tests.support.suite

# The browser tests keep their screenshots in each test's temporary folder,
# so `make test` leaves docs/screenshots alone. This refreshes, on purpose,
# the pictures the docs already show (and only those) from the tests that
# take them. The start page's come from bench/screenshots.py (README).
SCREENSHOT_TESTS := tests/browser/test_board.py tests/browser/test_desktop_tables.py tests/browser/test_documents_list.py tests/browser/test_supplier_phone.py
screenshots: install system-deps i18n-compile
	@out=$$(mktemp -d); \
	PORTAL_SCREENSHOT_DIR=$$out $(BIN)/python -m pytest -q -m browser $(SCREENSHOT_TESTS) || { rm -rf $$out; exit 1; }; \
	for kept in docs/screenshots/*.png; do \
		[ ! -f "$$out/$${kept##*/}" ] || cp "$$out/$${kept##*/}" "$$kept"; \
	done; \
	rm -rf $$out

lint: install
	$(BIN)/ruff check portal tenants tests bench
	$(BIN)/ruff format --check portal tenants tests bench
	$(BIN)/mypy

# The container image, compose file and Helm chart, checked without a
# container engine (tests/unit/infra; the sqlite phase of `make test` runs
# them too): compose schema, rendered chart against the Kubernetes schemas,
# hadolint on the Dockerfile.
validate-infra: install
	$(BIN)/python -m pytest -q tests/unit/infra

install: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock $(UV)
	$(UV) sync --frozen --quiet
	touch $@

# Debian packages the tests need; installed only when missing. WeasyPrint
# (statement PDFs) needs Pango and HarfBuzz's subsetter, and the CJK font
# it embeds; the PDF tests read PDFs back with poppler-utils.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	[ -x /usr/bin/pdftotext ] && [ -x /usr/bin/pdffonts ] || missing="$$missing poppler-utils"; \
	ldconfig -p | grep -q "libpangoft2-1.0.so.0" || missing="$$missing libpangoft2-1.0-0"; \
	ldconfig -p | grep -q "libharfbuzz-subset.so.0" || missing="$$missing libharfbuzz-subset0"; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

i18n: i18n-extract i18n-compile

i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext -k ngettext:1,2 -o $(LOCALES)/messages.pot --no-location --sort-output --ignore-dirs="piccolo_migrations" portal tenants templates
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --no-fuzzy-matching --ignore-obsolete

i18n-compile: install
	$(BIN)/pybabel compile -d $(LOCALES) -D messages --statistics

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
