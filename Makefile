# Basismonitor: `make run` (one refresh through Airflow on the demo municipality) and `make test`.
# Both create the locked environment in .venv first (uv, installed into the venv by pip if absent).

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (CI, some sandboxes) every
# process would otherwise compile Airflow's, dbt's and GX's sources again (GX alone ~10 s).
# uv lives in its own folder, outside the environment it syncs (so `uv pip sync` never removes it)
UV := $(CURDIR)/$(VENV)/.uv/bin/uv

export AIRFLOW_HOME := $(CURDIR)/var/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN := sqlite:///$(CURDIR)/var/airflow/airflow.db
export BASISMONITOR_INBOX ?= $(CURDIR)/inbox

.PHONY: venv run run-groningen test airflow lint demo clean bench bench-national bench-marts bench-marts-national serve bench-odata

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || { $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip; \
	  $(BIN)/python -m pip install --quiet --target $(VENV)/.uv "uv==0.13.9"; }
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/basismonitor demo --inbox $(BASISMONITOR_INBOX)

run: $(STAMP)
	PATH=$(BIN):$$PATH scripts/airflow_refresh.sh

# The same Airflow refresh on the real files of Groningen (examples/groningen: CBS, municipal,
# grid, OpenStreetMap and NDOV files with their licences; settings.yml: edition 2017, wijken)
GRONINGEN := $(CURDIR)/examples/groningen
run-groningen: $(STAMP)
	BASISMONITOR_INBOX=$(GRONINGEN)/inbox BASISMONITOR_SETTINGS=$(GRONINGEN)/settings.yml \
	BASISMONITOR_WAREHOUSE=$(CURDIR)/warehouse/groningen.duckdb \
	BASISMONITOR_EXPORTS=$(CURDIR)/exports/groningen \
	PATH=$(BIN):$$PATH scripts/airflow_refresh.sh

test: $(STAMP)
	PATH=$(BIN):$$PATH $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

airflow: $(STAMP)
	PATH=$(BIN):$$PATH scripts/airflow_standalone.sh

# Issue 20: the published editions as an OData v4 feed at http://127.0.0.1:$(ODATA_PORT)/odata/
# (Power BI / Excel: Get Data > OData feed). Serves exports/ ($BASISMONITOR_EXPORTS) read-only.
ODATA_PORT ?= 8081
serve: $(STAMP)
	$(BIN)/basismonitor serve --port $(ODATA_PORT)

# the feed at national size (synthetic 5.1 M-row edition; ~3 minutes): BENCHMARKS.md, issue 20
bench-odata: $(STAMP)
	$(BIN)/python benchmarks/bench_odata.py

# dbt against hand-written SQL and pandas on the compass marts (BENCHMARKS.md, issues 5 and 9)
bench-marts: $(STAMP)
	$(BIN)/python benchmarks/bench_marts.py --scale small --runs 3

# generates and ingests the national inbox first (long); to reuse one, e.g.
#   make bench-marts-national MARTS_NATIONAL="--ingested /path/after-build.duckdb --built"
MARTS_NATIONAL ?= --scale national
bench-marts-national: $(STAMP)
	$(BIN)/python benchmarks/bench_marts.py $(MARTS_NATIONAL) --runs 3 --no-full --no-build --timeout 1800

clean:
	rm -rf var exports warehouse/*.duckdb warehouse/*.wal dbt_project/target

# Issue 9: `make bench` (small municipality, minutes) and `make bench-national` (hours: generates
# the national inbox into $(NATIONAL_INBOX) first when it is absent). Results in var/bench/.
NATIONAL_INBOX ?= $(CURDIR)/var/national-inbox

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_marts.py --scale small --runs 3
	$(BIN)/python benchmarks/bench_national.py --scale small --runs 3 --wave-runs 3
	PATH=$(BIN):$$PATH $(BIN)/python benchmarks/bench_refresh.py --scale small --runs 3

bench-national: $(STAMP)
	test -d $(NATIONAL_INBOX) || $(BIN)/basismonitor demo --scale national --inbox $(NATIONAL_INBOX)
	$(BIN)/python benchmarks/bench_national.py --scale national --inbox $(NATIONAL_INBOX) --runs 3 \
	  --stages ingest,build,validate,publish,site --wave-runs 3 --publish-timeout 600 --site-areas 30 \
	  --republish-runs 1
	$(BIN)/python benchmarks/bench_marts.py --inbox $(NATIONAL_INBOX) --runs 3 --no-full --timeout 1800
