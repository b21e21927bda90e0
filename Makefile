# Two entry points: `make demo` (install + run the offline demo) and `make test` (install + lint + tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
PIP := $(BIN)/python -m pip

.PHONY: demo test lint typecheck pytest bench clean example

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH)"
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e ".[test]"
	touch $@

# heareval 2021.1.3 for tests/test_parity.py, where installable (the test skips, saying why, if not).
$(VENV)/.installed-parity: $(VENV)/.installed-test
	($(PIP) install -q -e ".[parity]" && $(PIP) install -q --no-deps "heareval==2021.1.3") \
	  || echo "heareval not installable here; tests/test_parity.py will skip"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/hearbench demo --out demo-out

lint: $(VENV)/.installed-test
	$(BIN)/ruff check hearbench tests benchmarks
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test $(VENV)/.installed-parity
	$(BIN)/pytest -q

test: lint typecheck pytest

# The worked plugin package (examples/): installed, listed, checked and run end to end.
example: $(VENV)/.installed-test
	$(PIP) install -q --no-deps -e examples/hearbench-example-plugin
	HEARBENCH_EXAMPLE_REQUIRED=1 $(BIN)/pytest -q tests/test_example_plugin.py

# The performance benchmarks on the reference weights and the local tasks (see README, Performance).
BENCH_LEVEL ?= default
bench: local-tasks
	$(BIN)/hearbench bench --$(BENCH_LEVEL) --weights-dir $(SHARED)/reference/weights --fsdd $(SHARED)/data/fsdd \
	  --scores $(TASKS) --suite-dir $(TASKS) --json build/bench-$(BENCH_LEVEL).json

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache

# Reference results: the baseline and mn04_as (official weights) on every local task built from
# ../shared/data, with the linear and MLP probes, then the report. SHARED points at that folder.
SHARED ?= ../shared
TASKS ?= build/local-tasks
REF_WEIGHTS ?= $(SHARED)/reference/weights/mn04_as.pt
PASST_SMALL ?= $(SHARED)/reference/weights/passt_small_random_seed0.pt
REFERENCE ?= results/reference
SWEEPS ?= results/sweeps

.PHONY: local-tasks reference sweeps reports robustness

local-tasks: $(VENV)/.installed
	for spec in fsdd-digit:fsdd fsdd-speaker:fsdd mridangam-stroke:mridangam mridangam-tonic:mridangam \
	            urbansound8k:urbansound8k esc10:esc10 events-csv:events; do \
	  name=$${spec%%:*}; src=$${spec##*:}; out=$(TASKS)/$$name; \
	  [ $$name = events-csv ] && out=$(TASKS)/events; \
	  [ -f $$out/task_metadata.json ] || $(BIN)/hearbench tasks build $$name --source $(SHARED)/data/$$src \
	    --out $$out --sample-rate 16000 --sample-rate 32000; \
	done

reference: local-tasks
	$(BIN)/hearbench run --embedder baseline --suite local --tasks-dir $(TASKS) --probe linear --probe mlp --out $(REFERENCE)
	$(BIN)/hearbench run --embedder mn04_as --weights $(REF_WEIGHTS) --suite local --tasks-dir $(TASKS) \
	  --probe linear --probe mlp --out $(REFERENCE)
	$(BIN)/hearbench report $(REFERENCE) --out $(REFERENCE)/report --with-published hear2021

# Layer and hop sweeps, one command each: mn04_as (official weights) and the small PaSST of the
# reference fixtures (random weights, token mode), linear probe.
sweeps: local-tasks
	$(BIN)/hearbench run --embedder mn04_as --weights $(REF_WEIGHTS) --sweep "layers=b5;b11;b13;b15;clf1" \
	  --task $(TASKS)/mridangam-stroke --probe linear --out $(SWEEPS)
	$(BIN)/hearbench run --embedder mn04_as --weights $(REF_WEIGHTS) --option mode=frames \
	  --sweep "hop_ms=20;40;80;160" --task $(TASKS)/events --probe linear --out $(SWEEPS)
	$(BIN)/hearbench run --embedder passt_small --weights $(PASST_SMALL) --option mode=tokens \
	  --sweep "layers=block0;block1;block2;block3" --task $(TASKS)/events --probe linear --out $(SWEEPS)
	$(BIN)/hearbench run --embedder passt_small --weights $(PASST_SMALL) --option mode=tokens \
	  --sweep "hop_ms=20;50;100" --task $(TASKS)/events --probe linear --out $(SWEEPS)
	$(BIN)/hearbench report $(SWEEPS) --out $(SWEEPS)/report

# Event results with frame scores (PSDS, pAUROC) and head cost: the baseline on the events task.
EVENT_METRICS ?= results/event-metrics

.PHONY: event-metrics
event-metrics: local-tasks
	$(BIN)/hearbench run --embedder baseline --task $(TASKS)/events --probe linear --probe mlp --out $(EVENT_METRICS)
	$(BIN)/hearbench report $(EVENT_METRICS) --out $(EVENT_METRICS)/report --n-boot 200 \
	  --x head_macs_per_second,total_macs_per_second,total_params

# Sequence heads on mn04_as frames (official weights) on the events task: each head at three
# widths, the frame-wise linear references, PSDS and head cost.
EVENT_SWEEP ?= results/event-sweep
EVENT_SWEEP_X ?= head_macs_per_second,total_params,total_macs_per_second

.PHONY: event-sweep
event-sweep: local-tasks
	run="$(BIN)/hearbench run --embedder mn04_as --weights $(REF_WEIGHTS) --option mode=frames \
	  --task $(TASKS)/events --out $(EVENT_SWEEP)"; \
	$$run --probe linear; \
	$$run --probe sequence --probe-option head=linear; \
	for head in bigru tcn transformer mlp; do \
	  for width in 64 128 256; do \
	    $$run --probe sequence --probe-option head=$$head --probe-option d_model=$$width; \
	  done; \
	done
	$(BIN)/hearbench report $(EVENT_SWEEP) --out $(EVENT_SWEEP)/report --n-boot 200 --x $(EVENT_SWEEP_X)

# Device robustness: the baseline and mn04_as (official weights) on esc10 and urbansound8k, clean,
# under the 22 unseen MicIRP devices, and with DIR augmentation of the probe (seen devices only).
ROBUSTNESS ?= results/robustness
MICIRP ?= $(SHARED)/data/dirs/micirp
robustness: local-tasks
	for task in esc10 urbansound8k; do \
	  for emb in baseline "mn04_as --weights $(REF_WEIGHTS)"; do \
	    args="--embedder $$emb --task $(TASKS)/$$task --probe linear --out $(ROBUSTNESS)"; \
	    $(BIN)/hearbench run $$args; \
	    $(BIN)/hearbench run $$args --robustness dir --dirs $(MICIRP); \
	    $(BIN)/hearbench run $$args --robustness dir --dirs $(MICIRP) \
	      --probe-option dir_augment_p=0.5 --probe-option dir_augment_draws=2; \
	  done; \
	done
	$(BIN)/hearbench report $(ROBUSTNESS) --out $(ROBUSTNESS)/report \
	  --budget params=128000 --budget macs_per_second=30e6

# Regenerate the stored reports from the stored results (no model runs).
reports: $(VENV)/.installed
	$(BIN)/hearbench report $(REFERENCE) --out $(REFERENCE)/report --with-published hear2021
	$(BIN)/hearbench report $(SWEEPS) --out $(SWEEPS)/report
	$(BIN)/hearbench report $(ROBUSTNESS) --out $(ROBUSTNESS)/report \
	  --budget params=128000 --budget macs_per_second=30e6
	$(BIN)/hearbench report $(EVENT_METRICS) --out $(EVENT_METRICS)/report --n-boot 200 \
	  --x head_macs_per_second,total_macs_per_second,total_params
	$(BIN)/hearbench report $(EVENT_SWEEP) --out $(EVENT_SWEEP)/report --n-boot 200 --x $(EVENT_SWEEP_X)
