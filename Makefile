# SPDX-License-Identifier: GPL-2.0
#
# QRTX top-level build.
#   make            userspace: libqrtx, the qrtx CLI, unit tests
#   make module     driver/qrtx.ko against the installed Debian kernel headers
#   make check      install what is missing, build everything, run every test
#   make run        install what is missing, build, run the example job
# KDIR= overrides the kernel build directory.

BUILD    ?= build
VARIANT  ?= release
OBJDIR   := $(BUILD)/$(VARIANT)
KDIR     ?= $(shell scripts/kdir.sh)

CC       ?= cc
CPPFLAGS += -Iuapi -Iruntime/include -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -pthread
LDLIBS   += -ljansson -lnuma -lm -pthread

include scripts/cuda.mk

# Kernels for an instruction set live in files named for it; the engine
# picks one at run time, so only these files are built for that ISA.
$(OBJDIR)/%_avx2.o: CFLAGS += -mavx2 -mfma
$(OBJDIR)/%_avx512.o: CFLAGS += -mavx512f -mavx512dq -mavx512vl -mfma

# libFuzzer targets: the library built by clang with coverage and sanitizers.
ifeq ($(VARIANT),fuzz)
CC       := clang
CFLAGS   += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=fuzzer,address,undefined
endif

ifeq ($(VARIANT),sanitize)
CFLAGS   += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif

LIB_SRCS   := $(sort $(wildcard runtime/*.c runtime/*/*.c))
# The CUDA engine's core: nvcc's object, or the one saying there is none.
ifeq ($(QRTX_HAVE_CUDA),1)
LIB_SRCS   := $(filter-out runtime/cuda/qgpu_none.c,$(LIB_SRCS))
LIB_CU_OBJS := $(OBJDIR)/runtime/cuda/gpusv.o
LDLIBS     += $(CUDA_LDLIBS)
else
LIB_CU_OBJS :=
endif
LIB_OBJS   := $(LIB_SRCS:%.c=$(OBJDIR)/%.o) $(LIB_CU_OBJS)
LIB        := $(OBJDIR)/libqrtx.a
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(OBJDIR)/tests/unit/%)

.PHONY: all userspace module module-check selftests bench unit-tests examples fuzz fuzz-targets check run clean
.DEFAULT_GOAL := all

all: userspace
userspace: $(OBJDIR)/qrtx $(OBJDIR)/qrtxd unit-tests
	@ln -sf $(OBJDIR)/qrtx qrtx
	@ln -sf $(OBJDIR)/qrtxd qrtxd

CORPUS_BIN := $(OBJDIR)/tests/corpus/corpus_check
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(OBJDIR)/tests/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

INTEG_BINS := $(OBJDIR)/tests/integration/daemon_test $(OBJDIR)/tests/integration/qrtxd-faults \
	      $(OBJDIR)/tests/integration/client_async_test

# The engine's NUMA placement, with cmocka; run-all.sh runs it in the test
# VM, which has two nodes.
NUMA_TEST  := $(OBJDIR)/tests/integration/sv_numa_test

# The client programs of examples/ (built with the tests, so they always build).
EXAMPLE_BINS := $(patsubst %.c,$(OBJDIR)/%,$(wildcard examples/*.c))

unit-tests: $(UNIT_BINS) $(CORPUS_BIN) $(INTEG_BINS) $(NUMA_TEST) $(EXAMPLE_BINS) $(OBJDIR)/qrtxd \
	    $(OBJDIR)/qrtx
examples: $(EXAMPLE_BINS)

$(OBJDIR)/%.o: %.c $(wildcard uapi/linux/*.h runtime/include/qrtx/*.h runtime/*.h runtime/sv/*.h tools/*.h \
		   examples/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(OBJDIR)/runtime/cuda/gpusv.o: runtime/cuda/gpusv.cu runtime/cuda/qgpu.h
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCC_FLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^

TOOL_OBJS  := $(patsubst %.c,$(OBJDIR)/%.o,$(filter-out tools/qrtxd.c,$(wildcard tools/*.c)))

$(OBJDIR)/qrtx: $(TOOL_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The daemon: its own program, the only one on io_uring so far.
$(OBJDIR)/qrtxd: $(OBJDIR)/tools/qrtxd.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -luring $(LDLIBS)

$(OBJDIR)/tests/unit/%: $(OBJDIR)/tests/unit/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

# The daemon with its fault-injection switches (QRTX_FAULT_*), for tests.
$(OBJDIR)/tests/integration/qrtxd-faults.o: tools/qrtxd.c $(wildcard runtime/include/qrtx/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DQRTX_FAULTS $(CFLAGS) -c -o $@ $<

$(OBJDIR)/tests/integration/qrtxd-faults: $(OBJDIR)/tests/integration/qrtxd-faults.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -luring $(LDLIBS)

# The asynchronous client (runtime/client_async.c) needs liburing.
$(OBJDIR)/tests/integration/%: $(OBJDIR)/tests/integration/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -luring $(LDLIBS)

$(NUMA_TEST): $(NUMA_TEST).o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(OBJDIR)/examples/%: $(OBJDIR)/examples/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -luring $(LDLIBS)

$(CORPUS_BIN): $(OBJDIR)/tests/corpus/corpus_check.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The front ends fuzzed, without the engine: instrumenting SIMD kernels
# costs minutes of build and finds nothing parsers could reach.
FRONTEND_SRCS := $(addprefix runtime/,circuit.c error.c gates.c expr.c qasm.c qasm_lex.c \
		   qasm_write.c graph.c observable.c job_spec.c)

fuzz-targets: $(FUZZ_BINS)

$(OBJDIR)/tests/fuzz/%: $(OBJDIR)/tests/fuzz/%.o $(FRONTEND_SRCS:%.c=$(OBJDIR)/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz:
	$(MAKE) VARIANT=fuzz fuzz-targets

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The module must build without a single warning under W=1 and sparse.
module-check:
	@$(MAKE) -s -C $(KDIR) M=$(CURDIR) clean >/dev/null
	@$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=1 modules 2>&1 | tee $(BUILD)/module-check.log
	@! grep -E 'warning:|error:' $(BUILD)/module-check.log

selftests:
	$(MAKE) -C tests/selftests/qrtx OUT=$(CURDIR)/$(BUILD)/selftests

bench:
	$(MAKE) -C bench OUT=$(CURDIR)/$(BUILD)/bench QRTX_CUDA=$(if $(QRTX_HAVE_CUDA),1,0)

check:
	@scripts/deps.sh check
	@tests/run-all.sh

run:
	@scripts/deps.sh build
	@$(MAKE) -s userspace
	./qrtx run examples/bell.qasm

clean:
	rm -rf $(BUILD) qrtx
	-$(MAKE) -s -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
