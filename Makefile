# Welfare workbench — the project's verbs.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO ?= data/demo/cremasco
REPORTS ?= reports
PORTA ?= 8866
ONDA ?= 2026
ESEMPIO ?= data/demo/questionari/cremasco-$(ONDA).json

.PHONY: demo test install chromium libreoffice bench templates clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed  ## create .venv and install the project with test extras

demo: install  ## run the notebooks on the demo district, open its demo survey wave, serve both on 127.0.0.1 (PORTA=8866)
	$(VENV)/bin/workbench esegui $(DEMO) --out $(REPORTS)
	$(VENV)/bin/workbench questionario apri $(DEMO) --onda $(ONDA) --out $(REPORTS) --esempio $(ESEMPIO)
	$(VENV)/bin/workbench mostra $(REPORTS) --porta $(PORTA)

chromium:  ## install Debian's chromium for the browser tests (never a downloaded browser)
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

libreoffice:  ## install Debian's LibreOffice Writer (the slow test converts the plan's .docx to PDF)
	@command -v soffice >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer)

test: install chromium libreoffice  ## install and run all tests, browser tests included
	$(PY) -m pytest

bench: install chromium  ## print the benchmark figures quoted in the README
	$(PY) benchmarks/bench_foundation.py

templates: install  ## regenerate Excel templates and the contract table from workbench/contract.py
	$(VENV)/bin/workbench modelli

clean:
	rm -rf $(REPORTS) .pytest_cache
