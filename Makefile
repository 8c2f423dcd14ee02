# The course's commands. `make test` is what CI runs; every target sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: setup test lint lab lab-instructor student bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes: a second run installs nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

# The student edition (solutions replaced by stubs) is rebuilt when a source notebook or the
# exercise machinery changes; `make student` rebuilds it unconditionally.
SOURCE_NOTEBOOKS := $(wildcard notebooks/*.ipynb)
STUDENT_STAMP := student/.generated
LAB_STAMP := $(VENV)/.installed-lab

$(STUDENT_STAMP): $(SOURCE_NOTEBOOKS) $(wildcard emlib/exercises/*.py) emlib/grading/student.py $(STAMP)
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

clean:
	rm -rf _build student .pytest_cache
