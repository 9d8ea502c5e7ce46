# The standalone engine (no Python): the same C sources behind a tiny main.
#   make standalone   -> build/heapscope-engine       (-O2, warnings are errors)
#   make tsan         -> build/heapscope-engine-tsan  (ThreadSanitizer)
#   make asan         -> build/heapscope-engine-asan  (AddressSanitizer + UBSan)
#   make bench        -> runs bench/bench.py with the project's venv
# BUILD=dir puts the binaries elsewhere (make tsan BUILD=/tmp/x). The flags live in
# engine/csrc/cflags.mk, which the cffi build, the sanitizer tests and bench.py read too.

ifeq ($(origin CC),default)
CC      := gcc
endif
PYTHON  ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)
BUILD   ?= build

SRCS    := $(wildcard engine/csrc/*.c) engine/csrc/standalone/main.c
HDRS    := $(wildcard engine/csrc/*.h) engine/csrc/cflags.mk
include engine/csrc/cflags.mk

.PHONY: standalone tsan asan bench clean

standalone: $(BUILD)/heapscope-engine
tsan: $(BUILD)/heapscope-engine-tsan
asan: $(BUILD)/heapscope-engine-asan

$(BUILD)/heapscope-engine: $(SRCS) $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_RELEASE) $(CFLAGS_WERROR) $(SRCS) -o $@

$(BUILD)/heapscope-engine-tsan: $(SRCS) $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_DEBUG) $(CFLAGS_TSAN) $(SRCS) -o $@

$(BUILD)/heapscope-engine-asan: $(SRCS) $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_DEBUG) $(CFLAGS_ASAN) $(SRCS) -o $@

$(BUILD):
	mkdir -p $@

bench: standalone
	$(PYTHON) bench/bench.py --binary $(BUILD)/heapscope-engine

clean:
	rm -f $(BUILD)/heapscope-engine $(BUILD)/heapscope-engine-tsan $(BUILD)/heapscope-engine-asan
	rmdir $(BUILD) 2>/dev/null || true
