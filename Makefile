# SPDX-License-Identifier: MIT
# Makefile - the only build file of leakcheck (GNU make, no recursion).
#
#   make leakcheck   install missing packages, build what it runs, run the shipped scenarios
#   make test        install missing packages, build, run every test
#   make deb|dist|install|uninstall|test-package   packages (docs/CI.md)
#   make all         build the agent, the harness, test programs and scenarios
#   make bench       agent overhead against heaptrack and valgrind massif
#   make fuzz        libFuzzer targets under fuzz/, FUZZ_SECONDS each (default 60)
#   make asan|tsan|valgrind|check-agent|check-layers|format|format-check|clean
#
# Objects go to $(B) (build/debug by default); `make B=build/asan SAN=address,undefined`
# builds a sanitized copy beside it.

B ?= build/debug
CC ?= gcc
CXX ?= g++
V ?= 0
WERROR ?= 1
SAN ?=
OPT ?= -O2

ifeq ($(V),0)
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
else
Q :=
say =
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
        -Wold-style-definition -Wwrite-strings -Wformat=2 -Wvla -Wundef -Wcast-qual -fno-common
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags libunwind libunwind-ptrace libcjson libdw libcurl cmocka 2>/dev/null)
BASE_CFLAGS := -std=gnu11 -g $(OPT) -D_GNU_SOURCE -DLEAKCHECK_VERSION='"$(VERSION)"' \
               -MMD -MP $(WARN) $(PKG_CFLAGS)
ifneq ($(SAN),)
BASE_CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=$(SAN)
endif
CFLAGS_EXTRA ?=
CFLAGS := $(BASE_CFLAGS) $(CFLAGS_EXTRA)
AGENT_CFLAGS := $(CFLAGS) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
                -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free \
                -fno-omit-frame-pointer

# ---------------------------------------------------------------- sources
# Layers (docs/ARCHITECTURE.md): common, util -> model -> analysis -> reports -> harness, lib;
# `make check-layers` checks the arrows.
COMMON_SRC := $(filter-out %_test.c,$(wildcard common/*.c))
# util/json.c reads JSON with cJSON: it is linked where cJSON is (reports, harness), never into
# the in-process library, whose users link $(LIB_LIBS) only.
UTIL_SRC := $(filter-out %_test.c util/json.c,$(wildcard util/*.c))
MODEL_SRC := $(filter-out %_test.c,$(wildcard model/*.c))
ANALYSIS_SRC := $(filter-out %_test.c,$(wildcard analysis/*.c))
AGENT_SRC := $(filter-out %_test.c,$(wildcard agent/ag_*.c))
AGENT_CORE_SRC := $(filter-out agent/ag_hook.c,$(AGENT_SRC))
HARNESS_SRC := $(filter-out %_test.c harness/main.c,$(wildcard harness/*.c))
REPORTS_SRC := $(filter-out %_test.c,$(wildcard reports/*.c))
LIB_SRC := $(filter-out %_test.c,$(wildcard lib/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
AGENT_OBJ := $(patsubst %.c,$(B)/pic/%.o,$(AGENT_SRC) $(COMMON_SRC))
AGENT_CORE_OBJ := $(patsubst %.c,$(B)/pic/%.o,$(AGENT_CORE_SRC) $(COMMON_SRC))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
UTIL_OBJ := $(call obj,$(UTIL_SRC))
JSON_OBJ := $(call obj,util/json.c)
MODEL_OBJ := $(sort $(call obj,$(MODEL_SRC)) $(UTIL_OBJ))
ANALYSIS_OBJ := $(sort $(call obj,$(ANALYSIS_SRC)) $(MODEL_OBJ) $(COMMON_OBJ))
REPORTS_OBJ := $(sort $(call obj,$(REPORTS_SRC)) $(MODEL_OBJ) $(JSON_OBJ))
HARNESS_OBJ := $(sort $(call obj,$(HARNESS_SRC) $(REPORTS_SRC)) $(ANALYSIS_OBJ) $(JSON_OBJ))

AGENT_SO := $(B)/libleakcheck-agent.so
LEAKCHECK := $(B)/leakcheck
# What each layer links against (pkg-config names, then plain libraries). libstdc++ (the
# demangler) is linked by its runtime name, so building needs no g++: `-lstdc++` would need
# libstdc++'s link-time files, which only come with g++ (ci/install-deps.sh --build).
STDCXX_LIB := -l:libstdc++.so.6
ANALYSIS_LIBS := $(shell pkg-config --libs libdw 2>/dev/null) $(STDCXX_LIB) -lm -lpthread
REPORTS_LIBS := $(shell pkg-config --libs libcjson 2>/dev/null) -lz -lm -lpthread
HARNESS_LIBS := $(shell pkg-config --libs libcjson libdw libcurl libunwind-ptrace 2>/dev/null) $(STDCXX_LIB) -lz -lm \
                -lpthread

# In-process assertion library (include/leakcheck.h): lib/*.c over the analysis only (no
# drivers, no libcurl), merged into one object whose only global symbols are the public lc_*
# API, so no internal name can clash with the user's code. Users link it with $(LIB_LIBS) (see
# leakcheck.pc).
PREFIX ?= /usr/local
LIB_OBJ := $(call obj,$(LIB_SRC))
LIB_A := $(B)/libleakcheck.a
LIB_LIBS := $(ANALYSIS_LIBS)
LIB_CFLAGS = $(CFLAGS) -DLC_AGENT_BUILD_PATH='"$(abspath $(AGENT_SO))"' \
             -DLC_AGENT_INSTALL_PATH='"$(PREFIX)/lib/leakcheck/libleakcheck-agent.so"'

# Examples (make example): a tiny library, its cmocka test and a plain C program.
EX_BIN := $(B)/examples/hdr_test $(B)/examples/hdr_plain

# Unit tests: x_test.c beside each module, linked with the objects of its folder. Their rules
# link $(filter-out %.h,$^): the headers a test includes become its prerequisites through the
# generated .d files, and must not reach the compiler's command line.
UNIT_SRC := $(wildcard common/*_test.c util/*_test.c model/*_test.c analysis/*_test.c \
            agent/*_test.c harness/*_test.c reports/*_test.c lib/*_test.c)
UNIT_BIN := $(patsubst %.c,$(B)/unit/%,$(UNIT_SRC))

# Test targets: tests/targets/NAME.c or NAME.cc -> $(B)/targets/NAME (debug info, no inlining,
# frame pointers, so culprits and lines are exact). Extra libraries: TARGET_LIBS_NAME.
TGT_C := $(wildcard tests/targets/*.c)
TGT_CXX := $(wildcard tests/targets/*.cc)
TGT_LIB_SRC := $(wildcard tests/targets/lib/*.c)
TGT_BIN := $(patsubst tests/targets/%.c,$(B)/targets/%,$(TGT_C)) \
           $(patsubst tests/targets/%.cc,$(B)/targets/%,$(TGT_CXX))
TGT_LIBS := $(patsubst tests/targets/lib/%.c,$(B)/targets/lib%.so,$(TGT_LIB_SRC))
TGT_CFLAGS := -std=gnu11 -g -O0 -fno-omit-frame-pointer -fno-inline -D_GNU_SOURCE -Wall -Wextra \
              -pthread $(PKG_CFLAGS)
TGT_CXXFLAGS := -std=gnu++17 -g -O0 -fno-omit-frame-pointer -fno-inline -Wall -Wextra -pthread
TARGET_LIBS_sqlite_stmt := -lsqlite3
TARGET_LIBS_cjson_tree := -lcjson
TARGET_LIBS_agent_dlopen := -ldl
TARGET_LIBS_hostile_static := -static
TARGET_CFLAGS_agent_nounwind := -O2 -fomit-frame-pointer -fno-asynchronous-unwind-tables \
                                -fno-unwind-tables
# a program over a library that allocates for its caller (tests/targets/lib/kvstore.c)
TARGET_LIBS_kvuser := -L$(B)/targets -lkvstore -Wl,-rpath,$(abspath $(B)/targets)
$(B)/targets/kvuser: $(B)/targets/libkvstore.so
# optimised, with inlining, for the symbolizer's test against addr2line -i
TARGET_CFLAGS_inline_o2 := -O2 -finline
TARGET_CXXFLAGS_inline_o2_cxx := -O2 -finline

# The stack walker's differential test (agent/ag_unwind_test.c) dlopens one workload built
# sixteen ways: C (tests/unwind/uw_work.c) and C++ (uw_work.cc), -O0..-O3, with and without
# frame pointers. Plain compiler flags in every build folder (no sanitizer: they are targets).
UW_VARIANTS := $(foreach o,O0 O1 O2 O3,$(o)-fp $(o)-nofp)
UW_LIBS := $(patsubst %,$(B)/unwind/libuw-c-%.so,$(UW_VARIANTS)) \
           $(patsubst %,$(B)/unwind/libuw-cc-%.so,$(UW_VARIANTS))
uw_flags = -$(firstword $(subst -, ,$(1))) \
           $(if $(filter nofp,$(lastword $(subst -, ,$(1)))),-fomit-frame-pointer,-fno-omit-frame-pointer)

# Integration tests: tests/it_*.c, cmocka programs that run real targets under the harness.
IT_SRC := $(wildcard tests/it_*.c)
IT_BIN := $(patsubst tests/%.c,$(B)/it/%,$(IT_SRC))

# Scenarios: scenarios/NAME/*.c -> $(B)/scenarios/NAME (one program per folder).
SCN_DIRS := $(patsubst %/,%,$(dir $(wildcard scenarios/*/*.c)))
SCN_NAMES := $(sort $(notdir $(SCN_DIRS)))
SCN_BIN := $(patsubst %,$(B)/scenarios/%,$(SCN_NAMES))
SCN_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Werror -pthread
SCN_LIBS_uploads := -lmicrohttpd
SCN_LIBS_inserts := -lsqlite3
SCN_LIBS_cache := -lmicrohttpd
SCN_LIBS_pool :=

# Benchmarks
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all build deps leakcheck test unit it bench asan asan-build tsan valgrind check-agent format \
        format-check clean install
.DEFAULT_GOAL := all

all: build
build: $(AGENT_SO) $(LEAKCHECK) $(TGT_BIN) $(TGT_LIBS) $(SCN_BIN) $(UNIT_BIN) $(IT_BIN) $(BENCH_BIN) \
       $(LIB_A) $(EX_BIN)

deps:
	$(Q)bash ci/install-deps.sh

# ---------------------------------------------------------------- rules
$(B)/pic/%.o: %.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(AGENT_CFLAGS) -c $< -o $@

$(B)/obj/%.o: %.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -c $< -o $@

$(AGENT_SO): $(AGENT_OBJ) agent/agent.map
	$(call say,LD,$@)$(CC) -shared -o $@ $(AGENT_OBJ) -Wl,--version-script=agent/agent.map \
	    -Wl,-z,now -Wl,-z,nodelete $(SAN_LDFLAGS) -lunwind -ldl -lpthread

$(LEAKCHECK): $(B)/obj/harness/main.o $(HARNESS_OBJ)
	$(call say,LD,$@)$(CC) -o $@ $^ $(SAN_LDFLAGS) $(HARNESS_LIBS)

$(B)/unit/agent/%: agent/%.c $(AGENT_CORE_OBJ)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(AGENT_CFLAGS) -o $@ $< $(AGENT_CORE_OBJ) \
	    $(SAN_LDFLAGS) -lcmocka -lunwind -ldl -lpthread

$(B)/unit/common/%: common/%.c $(COMMON_OBJ)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(SAN_LDFLAGS) -lcmocka

$(B)/unit/util/%: util/%.c $(UTIL_OBJ)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(SAN_LDFLAGS) -lcmocka \
	    -lm -lpthread $(UNIT_LDFLAGS_$*)

$(B)/unit/model/%: model/%.c $(MODEL_OBJ)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(SAN_LDFLAGS) -lcmocka \
	    -lm -lpthread

$(B)/unit/analysis/%: analysis/%.c $(ANALYSIS_OBJ)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(SAN_LDFLAGS) -lcmocka \
	    $(ANALYSIS_LIBS)

$(B)/unit/harness/%: harness/%.c $(HARNESS_OBJ)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(SAN_LDFLAGS) -lcmocka \
	    $(HARNESS_LIBS) $(UNIT_LDFLAGS_$*)

$(B)/unit/util/json_test: $(JSON_OBJ)
UNIT_LDFLAGS_json_test := $(shell pkg-config --libs libcjson 2>/dev/null)

# The self-check measures leakcheck's own code with the in-process library.
$(B)/unit/harness/selfcheck_test: $(LIB_A)

# Fault injection (harness/fault_test.c): allocation and I/O calls of the modules go through
# the test's wrappers.
UNIT_LDFLAGS_fault_test := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup \
    -Wl,--wrap=strndup,--wrap=write,--wrap=fsync,--wrap=rename,--wrap=read

$(B)/obj/lib/%.o: lib/%.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(LIB_CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJ) $(ANALYSIS_OBJ)
	$(call say,AR,$@)$(LD) -r -o $(B)/obj/libleakcheck.o $^ && \
	    objcopy --wildcard --keep-global-symbol='lc_*' $(B)/obj/libleakcheck.o && \
	    rm -f $@ && ar rcs $@ $(B)/obj/libleakcheck.o

$(B)/unit/lib/%: lib/%.c $(REPORTS_OBJ) $(ANALYSIS_OBJ) $(LIB_A)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(SAN_LDFLAGS) -lcmocka \
	    $(REPORTS_LIBS) $(LIB_LIBS)

$(B)/examples/hdr_test: examples/hdr/hdr_test.c examples/hdr/hdr.c $(LIB_A)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(TGT_CFLAGS) -Iinclude -o $@ $(filter-out %.h,$^) -lcmocka \
	    $(LIB_LIBS)

$(B)/examples/hdr_plain: examples/hdr/hdr_plain.c examples/hdr/hdr.c $(LIB_A)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(TGT_CFLAGS) -Iinclude -o $@ $(filter-out %.h,$^) $(LIB_LIBS)

$(B)/unit/reports/%: reports/%.c $(REPORTS_OBJ)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(SAN_LDFLAGS) -lcmocka \
	    $(REPORTS_LIBS)

$(B)/targets/%: tests/targets/%.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(TGT_CFLAGS) $(TARGET_CFLAGS_$*) -o $@ $< \
	    $(TARGET_LIBS_$*) -ldl

$(B)/targets/%: tests/targets/%.cc
	$(call say,CXX,$@)mkdir -p $(@D) && $(CXX) $(TGT_CXXFLAGS) $(TARGET_CXXFLAGS_$*) -o $@ $< \
	    $(TARGET_LIBS_$*)

$(B)/targets/lib%.so: tests/targets/lib/%.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(TGT_CFLAGS) -fPIC -shared -o $@ $<

$(B)/unwind/libuw-c-%.so: tests/unwind/uw_work.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) -std=gnu11 -g $(call uw_flags,$*) -fPIC -shared \
	    -D_GNU_SOURCE -Wall -Wextra -Werror -o $@ $<

$(B)/unwind/libuw-cc-%.so: tests/unwind/uw_work.cc
	$(call say,CXX,$@)mkdir -p $(@D) && $(CXX) -std=gnu++17 -g $(call uw_flags,$*) -fPIC -shared \
	    -Wall -Wextra -Werror -o $@ $<

$(B)/unit/agent/ag_unwind_test: $(UW_LIBS)

$(B)/it/%: tests/%.c tests/it_util.h $(HARNESS_OBJ)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $< $(HARNESS_OBJ) $(SAN_LDFLAGS) \
	    -lcmocka $(HARNESS_LIBS)

.SECONDEXPANSION:
$(B)/scenarios/%: $$(wildcard scenarios/$$*/*.c) $$(wildcard scenarios/$$*/*.h)
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) $(SCN_CFLAGS) -o $@ $(filter %.c,$^) $(SCN_LIBS_$*)

$(B)/bench/%: bench/%.c common/proto.c harness/procfs.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) -std=gnu11 -g -O2 -fno-omit-frame-pointer \
	    -D_GNU_SOURCE -Wall -Wextra -pthread -o $@ $^

# ---------------------------------------------------------------- user-facing targets
# `make leakcheck` installs only the runtime, build and demo-service packages, and builds only
# what it runs (the agent, the command, the demo services), JOBS at a time (default: every core).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
leakcheck:
	$(Q)bash ci/install-deps.sh --runtime --build --scenarios
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) $(AGENT_SO) $(LEAKCHECK) $(SCN_BIN)
	$(Q)bash ci/run-scenarios.sh $(B)

test: deps
	$(Q)$(MAKE) --no-print-directory build
	$(Q)B=$(B) bash tests/ci-test.sh

unit: build
	$(Q)B=$(B) ONLY=unit bash tests/run-all.sh

it: build
	$(Q)B=$(B) ONLY=it bash tests/run-all.sh

# Every shipped scenario and every tests/cases scenario RUNS times: verdict counts, false
# alarms, misses per scenario (FLAKE_DIRS=tests/cases for the cases alone).
RUNS ?= 10
FLAKE_DIRS ?= scenarios tests/cases
.PHONY: flake example
flake: build
	$(Q)B=$(B) $(B)/it/it_cases --flake $(RUNS) $(addprefix --dir ,$(FLAKE_DIRS))

# The in-process assertion example: the leaky test must fail naming its culprit (exit 1), the
# fixed one pass; then the same checks from a plain C program.
example: $(AGENT_SO) $(LEAKCHECK) $(EX_BIN)
	@echo '== cmocka test under leakcheck exec (test_parse_leaky is expected to fail)'
	$(Q)$(LEAKCHECK) exec -- $(B)/examples/hdr_test; test $$? -eq 1
	@echo '== plain C program, fixed then leaky (exit 0, then 1)'
	$(Q)$(LEAKCHECK) exec -- $(B)/examples/hdr_plain fixed
	$(Q)$(LEAKCHECK) exec -- $(B)/examples/hdr_plain leaky; test $$? -eq 1
	@echo '== without the agent both cmocka tests skip'
	$(Q)$(B)/examples/hdr_test

# `make bench` installs what it compares with (ci/install-deps.sh --bench), builds the agent
# and the bench programs optimised (-O2, whatever OPT says), and runs bench/run.sh; its
# variables (RUNS, PAIRS, THREADS, WORKLOADS, TOOLS, CAP, ...; BENCH_MD=FILE for Markdown
# tables) pass through the environment: `make bench RUNS=5 BENCH_MD=/tmp/bench.md`.
bench:
	$(Q)bash ci/install-deps.sh --runtime --build --bench
	$(Q)$(MAKE) --no-print-directory OPT=-O2 $(AGENT_SO) $(BENCH_BIN)
	$(Q)bash bench/run.sh $(B)

# The unit tests and the harness, sanitized (the agent is tested by its own unit tests here:
# a sanitizer runtime and an LD_PRELOAD allocator cannot share one process).
asan-build: $(UNIT_BIN) $(LEAKCHECK)

.PHONY: bench-scenarios
bench-scenarios: $(AGENT_SO) $(LEAKCHECK) $(SCN_BIN)
	$(Q)bash bench/scenarios.sh $(B)

asan:
	$(Q)$(MAKE) --no-print-directory B=build/asan SAN=address,undefined OPT=-O1 asan-build
	$(Q)B=build/asan ONLY=unit bash tests/run-all.sh

tsan:
	$(Q)$(MAKE) --no-print-directory B=build/tsan SAN=thread OPT=-O1 \
	    $(patsubst $(B)/%,build/tsan/%,$(filter $(B)/unit/agent/%,$(UNIT_BIN)))
	$(Q)B=build/tsan ONLY=unit-agent bash tests/run-all.sh

valgrind: build
	$(Q)B=$(B) VALGRIND=1 ONLY=unit bash tests/run-all.sh

# ---------------------------------------------------------------- fuzzing
# libFuzzer targets fuzz/fuzz_NAME.c, built with clang against the module sources (not the
# gcc objects) into build/fuzz/. `make fuzz` runs each for FUZZ_SECONDS on its seed corpus
# fuzz/corpus/NAME (new inputs go to build/fuzz/corpus/NAME, crashes to build/fuzz/crashes).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_B := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -DLEAKCHECK_VERSION='"$(VERSION)"' -MMD -MP \
               $(WARN) -Wno-format-nonliteral $(PKG_CFLAGS) $(FUZZ_SAN)
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(HARNESS_SRC) $(REPORTS_SRC) $(ANALYSIS_SRC) \
                $(MODEL_SRC) $(UTIL_SRC) util/json.c $(COMMON_SRC))

$(FUZZ_B)/obj/%.o: %.c
	$(call say,CLANG,$@)mkdir -p $(@D) && $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -c $< -o $@

$(FUZZ_B)/libleakcheck-fuzz.a: $(FUZZ_LIB_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_B)/libleakcheck-fuzz.a
	$(call say,CLANG,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_B)/libleakcheck-fuzz.a $(HARNESS_LIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh $(FUZZ_NAMES)

check-agent: $(AGENT_SO)
	$(Q)bash ci/check-agent.sh $(AGENT_SO)

# The include arrows between the layers (docs/ARCHITECTURE.md), and no circle inside a folder.
.PHONY: check-layers
check-layers:
	$(Q)bash ci/check-layers.sh .

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h' '*.cc')

format-check:
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' '*.cc')

install: $(AGENT_SO) $(LEAKCHECK) $(LIB_A)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/leakcheck $(DESTDIR)$(PREFIX)/include
	install -m 755 $(LEAKCHECK) $(DESTDIR)$(PREFIX)/bin/leakcheck
	install -m 755 $(AGENT_SO) $(DESTDIR)$(PREFIX)/lib/leakcheck/
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/leakcheck.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: leakcheck\nDescription: in-process leak assertions (leakcheck)\nVersion: %s\nCflags: -I$${includedir}\nLibs: -L$${libdir} -lleakcheck %s\n' \
	    '$(PREFIX)' '$(VERSION)' '$(LIB_LIBS)' >$(DESTDIR)$(PREFIX)/lib/pkgconfig/leakcheck.pc

# ---------------------------------------------------------------- packages (docs/CI.md)
# `make deb`: build/leakcheck_VERSION_ARCH.deb, built in build/deb with PREFIX=/usr: the
# command, the agent, the header, the static library, leakcheck.pc, man pages made from the
# help texts (help2man) and the docs; Depends from the libraries the binaries load
# (ci/deb-depends.sh). `make dist`: build/leakcheck-VERSION.tar.gz of the committed tree.
# `make uninstall` removes what `make install` put under PREFIX. `make test-package` installs
# the .deb into a fresh Debian 12 root (debootstrap) and runs a leaky and a fixed program there.
DEB_B := build/deb
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB := build/leakcheck_$(VERSION)_$(DEB_ARCH).deb
DIST := build/leakcheck-$(VERSION).tar.gz
DOC_FILES := README.md $(wildcard docs/*.md) reports/report.schema.json
MAN_CMDS := run validate analyze exec compare merge history report

.PHONY: man install-extra uninstall deb dist test-package
man: $(LEAKCHECK)
	$(Q)bash ci/man-pages.sh $(LEAKCHECK) $(VERSION) $(B)/man

# The man pages and docs, after `install` (separate so that `install` needs no help2man).
install-extra: man
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/leakcheck
	install -m 644 $(B)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(DOC_FILES) $(DESTDIR)$(PREFIX)/share/doc/leakcheck/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/leakcheck $(DESTDIR)$(PREFIX)/lib/leakcheck/libleakcheck-agent.so \
	    $(DESTDIR)$(PREFIX)/include/leakcheck.h $(DESTDIR)$(PREFIX)/lib/libleakcheck.a \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/leakcheck.pc \
	    $(DESTDIR)$(PREFIX)/share/man/man1/leakcheck.1 \
	    $(patsubst %,$(DESTDIR)$(PREFIX)/share/man/man1/leakcheck-%.1,$(MAN_CMDS))
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/leakcheck
	-rmdir $(DESTDIR)$(PREFIX)/lib/leakcheck 2>/dev/null

deb:
	$(Q)rm -rf $(DEB_B)/root
	$(Q)$(MAKE) --no-print-directory -j2 B=$(DEB_B) PREFIX=/usr DESTDIR=$(abspath $(DEB_B))/root \
	    install install-extra >/dev/null
	$(Q)bash ci/make-deb.sh $(DEB_B)/root $(VERSION) $(DEB_ARCH) $(DEB)

dist:
	$(Q)mkdir -p build && git archive --format=tar.gz --prefix=leakcheck-$(VERSION)/ -o $(DIST) HEAD
	@echo "dist: $(DIST) (the committed tree at $$(git rev-parse --short HEAD))"

test-package: deb
	$(Q)bash ci/test-package.sh $(DEB)
	$(Q)bash ci/test-workflows.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
