# The course's commands. `make test` is what CI runs; every target sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: setup sandbox test test-pythons blas-check lint lab lab-instructor student bench bench-grade clean book book-instructor browser npm audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes: a second run installs nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The grader's sandbox: Debian's bubblewrap, installed when we are root with apt (idempotent; a
# failure only prints how to install it, the grading tests then say why they skip).
sandbox:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing bubblewrap for the grader's sandbox"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) \
	    || echo "could not install bubblewrap: run 'sudo apt-get install bubblewrap'"; \
	else echo "bubblewrap (bwrap) is missing: the grader needs it to sandbox submissions;" \
	  "install it with 'sudo apt-get install bubblewrap' (Debian/Ubuntu) or 'sudo dnf install bubblewrap'"; fi

setup: $(STAMP) sandbox

lint: $(STAMP)
	$(BIN)/ruff check .

# The student edition (solutions replaced by stubs) is rebuilt when a source notebook or the
# exercise machinery changes; `make student` rebuilds it unconditionally.
SOURCE_NOTEBOOKS := $(wildcard notebooks/*.ipynb)
STUDENT_STAMP := student/.generated
LAB_STAMP := $(VENV)/.installed-lab

$(STUDENT_STAMP): $(SOURCE_NOTEBOOKS) $(wildcard emlib/exercises/*.py) emlib/student_edition.py emlib/grading/protocol.py $(STAMP)
	$(BIN)/emlib student notebooks --out student
	touch $@

student: $(STAMP)
	$(BIN)/emlib student notebooks --out student
	touch $(STUDENT_STAMP)

$(LAB_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $@

lab: $(LAB_STAMP) $(STUDENT_STAMP)
	$(BIN)/jupyter lab student/

lab-instructor: $(LAB_STAMP)
	$(BIN)/jupyter lab notebooks/

# The website (Jupyter Book 1.x), two editions from one source. `make book` does all the set-up
# on a fresh machine (the `book` extra, npm for the JavaScript the site serves itself), builds
# the student edition and prints the index.html to open; `make book-instructor` builds the one
# with the solutions in dropdowns. JUPYTERHUB_URL=https://... adds a JupyterHub launch button.
BOOK_STAMP := $(VENV)/.installed-book
VENDOR_STAMP := book/_vendor/vendor.json
JUPYTERHUB_URL ?=

$(BOOK_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[book]'
	touch $@

npm:
	@if command -v npm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Node.js and npm (they fetch the website's JavaScript from the npm registry)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	else echo "npm is missing: the website vendors MathJax and the widget manager with it;" \
	  "install it with 'sudo apt-get install nodejs npm' (Debian/Ubuntu)"; exit 1; fi

book/node_modules/.package-lock.json: book/package-lock.json | npm
	cd book && npm ci --ignore-scripts --no-audit --no-fund

$(VENDOR_STAMP): book/node_modules/.package-lock.json book/vendor.py | $(BIN)/python
	$(BIN)/python book/vendor.py
	touch $@

book: $(BOOK_STAMP) $(VENDOR_STAMP)
	$(BIN)/python book/build_book.py --edition student --jupyterhub-url '$(JUPYTERHUB_URL)'

book-instructor: $(BOOK_STAMP) $(VENDOR_STAMP)
	$(BIN)/python book/build_book.py --edition instructor --jupyterhub-url '$(JUPYTERHUB_URL)'

# The website's browser tests drive Debian's Chromium headless (playwright never downloads a
# browser here): installed when we are root with apt, idempotently; otherwise say how.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium for the website's browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "could not install chromium: run 'sudo apt-get install chromium'"; \
	else echo "chromium is missing: the website's browser tests need it;" \
	  "install it with 'sudo apt-get install chromium' (Debian/Ubuntu)"; fi

# An OPENBLAS_CORETYPE the CPU cannot run kills every test with an illegal instruction: say so
# first, with the kernels this CPU does run.
blas-check:
	@$(PYTHON) tests/blas_kernels.py

# The accessibility audit on demand: builds an edition (EDITION=student or instructor) and runs
# axe-core (WCAG 2.1 A and AA) on each of its pages in headless Chromium, printing a table of
# the violations. `make test` runs the same audit on both editions (tests/book/).
EDITION ?= student

audit: $(BOOK_STAMP) $(VENDOR_STAMP) browser
	$(BIN)/python book/build_book.py --edition $(EDITION) --quiet
	$(BIN)/python tests/book/axe_audit.py _build/$(EDITION)/html

# Everything CI runs: lint, the unit, grading and website tests, then the notebooks under nbval
# (the cells marked NBVAL_CHECK_OUTPUT must reproduce their stored outputs), then the notebooks
# and the grading of the course's solutions again under another BLAS kernel family and on one
# thread (tests/run_variants.py): a checked number must not depend on either. Defined after the
# book's stamps because make expands a rule's prerequisites where the rule is read.
test: blas-check $(STAMP) $(BOOK_STAMP) $(VENDOR_STAMP) sandbox browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q
	$(BIN)/python -m pytest -q --nbval-lax notebooks/
	$(BIN)/python tests/run_variants.py

# The library, exercise and notebook tests under every CPython 3.10+ found (pyenv's versions and
# python3.N on the PATH), each in its own venv under .venv-pythons/; prints a table. Not part of
# `make test` (it installs the dependencies once per interpreter).
test-pythons: $(STAMP)
	$(BIN)/python tests/run_pythons.py

# emlib against scikit-learn on the same EM work, plus each notebook's run time in a fresh
# kernel; BENCH_ARGS=--with-tests also times the test suite (see benchmarks/README.md).
BENCH_ARGS ?=

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The grader's throughput: 40 copies of notebook 03's solutions graded with --jobs 1, --jobs 2
# and --cluster local:2, against executing the notebook alone; BENCH_GRADE_ARGS="--copies 8"
# for a quicker run (see benchmarks/README.md).
BENCH_GRADE_ARGS ?=

bench-grade: $(STAMP) sandbox
	$(BIN)/python benchmarks/grade_throughput.py $(BENCH_GRADE_ARGS)

clean:
	rm -rf _build student .pytest_cache
