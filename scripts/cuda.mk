# SPDX-License-Identifier: GPL-2.0
#
# The CUDA engine is built when nvcc is found: $(NVCC) when set, else
# $(CUDA_HOME)/bin/nvcc, nvcc on PATH, /usr/local/cuda/bin/nvcc. QRTX_CUDA=0
# builds without it (the engine then says it is absent). Included by the
# top-level and bench Makefiles, which link $(CUDA_LDLIBS).

ifneq ($(QRTX_CUDA),0)
NVCC ?= $(firstword $(wildcard $(CUDA_HOME)/bin/nvcc) $(shell command -v nvcc 2>/dev/null) \
	  $(wildcard /usr/local/cuda/bin/nvcc))
endif

ifneq ($(strip $(NVCC)),)
QRTX_HAVE_CUDA := 1
CUDA_ROOT   := $(patsubst %/bin/nvcc,%,$(NVCC))
# Hopper code, and PTX of the same architecture for later GPUs to compile.
NVCC_FLAGS  := -O2 -std=c++17 -gencode arch=compute_90,code=sm_90 \
	       -gencode arch=compute_90,code=compute_90 --Werror all-warnings \
	       -Xcompiler -Wall,-Wextra,-Werror
# The runtime linked statically: binaries run (and say "no driver") where
# the toolkit is absent.
CUDA_LDLIBS := -L$(CUDA_ROOT)/lib64 -lcudart_static -ldl -lrt -lstdc++
else
QRTX_HAVE_CUDA :=
CUDA_LDLIBS :=
endif
