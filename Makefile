# The kit's commands. `make grade` and `make test` set up .venv themselves when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

ASSIGNMENTS := 01_gradient_descent 02_optimizers 03_regularization
ASSIGNMENT ?=
SUBMISSIONS ?=
OUT ?=
JOBS ?= 2
GRANTS ?=
FORCE ?=
RESUME ?=
NBGRADER ?=
GRADE_FLAGS = --jobs $(JOBS)$(if $(FORCE), --force)$(if $(RESUME), --resume)$(if $(GRANTS), --grant-review $(GRANTS))

.PHONY: setup grade test release autograde feedback publish export gradescope bench lint lock clean mutants similarity hints

setup: $(STAMP)

# The dev environment's pins (numpy 2.4, scipy 1.17, scikit-learn 1.9, IPython 9) need Python >= 3.11,
# soupsieve (nbconvert's) 3.11.5; they resolve up to 3.12 (tests/grader/test_python_range.py).
$(STAMP): requirements.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(not ((3, 11, 5) <= sys.version_info[:3] < (3, 13)))' || { \
	  echo "make setup needs Python 3.11 (3.11.5 or newer) or 3.12, $(PYTHON) is $$($(PYTHON) -V 2>&1):" \
	       "run make PYTHON=python3.11 ..."; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

# No SUBMISSIONS: the bundled sample class of ASSIGNMENT (default: every assignment) into
# grades/samples/<assignment>/, never the folder of a real class; all of them in one lane pool. With
# SUBMISSIONS: one real class, by default into grades/<assignment>/; ASSIGNMENT may be left out for nbgrader's submitted/ layout.
grade: $(STAMP)
ifeq ($(strip $(SUBMISSIONS)),)
	@test -z "$(OUT)" -o -n "$(ASSIGNMENT)" || { echo "OUT needs ASSIGNMENT (or SUBMISSIONS)"; exit 2; }
	$(PY) -m autograder grade-samples$(foreach a,$(ASSIGNMENT), --assignment $(a))$(if $(OUT), --out "$(OUT)") $(GRADE_FLAGS)
else
	@test -d "$(SUBMISSIONS)" || { echo "SUBMISSIONS=$(SUBMISSIONS) is not a folder (one file or folder per student)"; exit 2; }
	$(PY) -m autograder grade $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(SUBMISSIONS)/* $(if $(OUT),--out "$(OUT)") $(GRADE_FLAGS)
endif

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -n auto --dist loadgroup -p no:cacheprovider

release: $(STAMP)
	$(PY) -m autograder.tasks.release

# nbgrader's autograde of submitted/<student>/<ASSIGNMENT>/: the kit grades the class in its parallel
# lanes into grades/nbgrader/<ASSIGNMENT>/, then nbgrader autograde (KitGrades in place of Execute)
# writes those records into the gradebook and the autograded notebooks.
autograde: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make autograde ASSIGNMENT=02_optimizers [JOBS=2]"; exit 2; }
	$(PY) -m autograder autograde --assignment $(ASSIGNMENT) --jobs $(JOBS)

# nbgrader's feedback pages in feedback/<student>/<ASSIGNMENT>/, the .py-only students' included (hidden
# checks: points only, until make publish ... NBGRADER=1; a published class stays published).
feedback: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make feedback ASSIGNMENT=02_optimizers"; exit 2; }
	$(PY) -m autograder feedback --assignment $(ASSIGNMENT)

# After the deadline: one class's student-visible outputs with the hidden checks' details. OUT: only
# that kit output folder (default grades/<ASSIGNMENT>/); NBGRADER=1: nbgrader's class (its feedback pages
# and grades/nbgrader/<ASSIGNMENT>/), from then on.
publish: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make publish ASSIGNMENT=02_optimizers [OUT=grades/02_optimizers] [NBGRADER=1]"; exit 2; }
	$(PY) -m autograder publish --assignment $(ASSIGNMENT)$(if $(OUT), --out "$(OUT)")$(if $(NBGRADER), --nbgrader)

# One CSV for the LMS: one row per student and graded assignment (or ASSIGNMENT only), from nbgrader's
# gradebook and grades/.
export: $(STAMP)
	$(PY) -m autograder export grades --out grades/export.csv$(foreach a,$(ASSIGNMENT), --assignment $(a))

# A Gradescope autograder bundle for one assignment.
gradescope: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make gradescope ASSIGNMENT=02_optimizers"; exit 2; }
	$(PY) -m autograder gradescope-bundle --assignment $(ASSIGNMENT) --out dist/autograder.zip

bench: $(STAMP)
	$(PY) -m bench

# TA-side similarity evidence (copydetect), never a score: each submission of SUBMISSIONS against torch's
# source of the graded names and against the rest of the class; similarity.html and similarity.csv in
# grades/similarity/<ASSIGNMENT>/ or OUT. Not in grades/<ASSIGNMENT>/: a regrade replaces that folder
# whole, and files there without the kit's run.json make `make grade` refuse it.
similarity: $(STAMP)
	@test -d "$(SUBMISSIONS)" || { echo "usage: make similarity ASSIGNMENT=02_optimizers SUBMISSIONS=path/to/class [OUT=...] (SUBMISSIONS: a folder, one file or folder per student)"; exit 2; }
	$(PY) -m autograder similarity $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) $(SUBMISSIONS)/* $(if $(OUT),--out "$(OUT)")

# How strong the checks are: mutate the solution, drop the mutants an independent oracle finds
# equivalent, grade the rest, print the kill rate per rubric line and every survivor as a diff.
# Without ASSIGNMENT: all three. Report: grades/mutants/<assignment>.json.
mutants: $(STAMP)
	$(PY) -m autograder.tasks.mutants $(foreach a,$(ASSIGNMENT),--assignment $(a)) --jobs $(JOBS) $(MUTANTS_ARGS)

# The known misreadings' signatures behind the feedback's "Likely misreading" hints, from the corpus
# (autograder/grading/rubric/hints/): run after changing a check or the known-wrong table.
hints: $(STAMP)
	$(PY) -m autograder.tasks.hints $(foreach a,$(ASSIGNMENT),--assignment $(a)) --jobs $(JOBS)

lint: $(STAMP)
	$(PY) -m ruff check .

# Regenerate constraints.txt (every transitive pin) from requirements.txt in a throwaway venv.
lock:
	rm -rf /tmp/kit-lock-venv && $(PYTHON) -m venv /tmp/kit-lock-venv
	/tmp/kit-lock-venv/bin/pip install --quiet -r requirements.txt
	{ echo "# Every transitive pin of the kit's environment, generated by 'make lock' from requirements.txt."; \
	  /tmp/kit-lock-venv/bin/pip freeze | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > constraints.txt

# Only what can be regenerated. Never submitted/, autograded/, feedback/, gradebook.db, nor the grades
# of real classes in grades/ (students' work, manual grades and grades exist nowhere else).
clean:
	rm -rf grades/samples grades/mutants dist .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo "kept: submitted/ autograded/ feedback/ gradebook.db and the real classes in grades/ (remove them yourself if you must)"
