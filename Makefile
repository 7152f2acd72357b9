# 信用通 — everything a newcomer needs is behind `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo run test lint bench clean

venv: $(STAMP)

# Debian packages the product itself needs: the fallback font for rare characters in names (render/fonts.py).
FONT_PACKAGES := fonts-hanazono

$(STAMP): pyproject.toml
	./tools/debian-packages $(FONT_PACKAGES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: venv
	$(BIN)/creditbot demo

run: venv
	$(BIN)/creditbot run

# Debian packages the suite runs for real (tools/debian-packages installs what is missing).
SYSTEM_PACKAGES := pgbouncer chromium $(FONT_PACKAGES)

test: venv
	./tools/debian-packages $(SYSTEM_PACKAGES)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python -m bench.resolve --subjects 100000
	$(BIN)/python -m bench.importer --rows 100000

clean:
	rm -rf $(VENV) var build *.egg-info
