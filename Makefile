# vae-teach: `make lab` opens the course, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# JupyterLab refuses to run as root unless told to (containers, CI)
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: setup lab app test test-fast strip record bench paper lint clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-site.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt -r requirements-site.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) notebooks/00_start_here.ipynb

app: $(STAMP)
	$(VENV)/bin/voila apps/explore.ipynb --Voila.ip=127.0.0.1 --port=$(PORT)

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not browser"

strip: $(STAMP)
	$(PY) tools/nbstrip.py notebooks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# the paper's §5 experiments at a larger budget than notebook 09 (about 5 minutes on 2 quiet cores)
paper: $(STAMP)
	$(PY) benchmarks/run_all.py paper

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis tests/browser/artifacts

# execute notebooks and keep the outputs of `# NBVAL_CHECK_OUTPUT` cells (NB=notebooks/03_elbo.ipynb for one)
NB ?= notebooks
record: $(STAMP)
	$(PY) tools/nbstrip.py --record $(NB)

# the course as a static site in site/ (open site/index.html): every notebook executed and rendered, offline
.PHONY: site
site: $(STAMP)
	$(PY) tools/site/build.py --out site

# the Chinese edition (notebooks/zh/): copy each English notebook's code and checked outputs into its twin,
# keeping the translated markdown and comments; it prints what needs translating (tools/zh_sync.py)
.PHONY: zh-sync
zh-sync: $(STAMP)
	$(PY) -m tools.zh_sync
