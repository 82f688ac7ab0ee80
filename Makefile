# crosstenant -- build, lint and test (GNU make).
#
#   make            build build/plain/crosstenant/core.so
#   make test       busted suite (Lua 5.4) against the in-tree build
#   make check      everything CI runs; the last line is "N passed, N failed"
#   make doc        the API reference from the docstrings, build/doc/
#
# See toolchain notes in the project guide: busted must run under lua5.4,
# the module is never linked with -llua5.4, luarocks needs --lua-version=5.4.

.DEFAULT_GOAL := all
SHELL := /bin/sh

CC      ?= cc
LUA     ?= lua5.4
# Resolved by the shell when a recipe runs, so `make test` works on a fresh
# machine where `deps` installs busted first.
BUSTED  ?= $(LUA) "$$(command -v busted)"
LUACHECK ?= luacheck
LUAROCKS ?= luarocks
LDOC    ?= ldoc
GCOVR   ?= gcovr
VALGRIND ?= valgrind

# Recursive (=) so pkg-config runs at recipe time, after `deps`.
LUA_CFLAGS ?= $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)

WARNFLAGS := -std=c99 -pedantic -Wall -Wextra -Wshadow -Wmissing-prototypes \
             -Wstrict-prototypes -Wcast-qual -Wwrite-strings -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(WARNFLAGS) $(CFLAGS) -fPIC $(LUA_CFLAGS)
LDFLAGS ?=
# Never -llua5.4: the lua5.4 executable exports the API itself.
# The core's own library (not Lua): SQLite for durable stores.
CORE_LIBS := -lsqlite3
# The HTTP server is a module of its own, crosstenant.httpd: libmicrohttpd
# pulls in GnuTLS and p11-kit, which crash LeakSanitizer's tracer at exit
# in every process that loads them, so only `serve` loads them.
HTTPD_LIBS := -lmicrohttpd
SO_LDFLAGS = -shared $(LDFLAGS)

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer
ASAN_CFLAGS := $(SAN_FLAGS) -O1 -g
COV_CFLAGS  := --coverage -O0 -g

# Runtime of the sanitizers, preloaded into lua5.4 for the asan suite only.
ASAN_RT = $$($(CC) -print-file-name=libasan.so)
ASAN_OPTIONS_RUN := detect_leaks=1:abort_on_error=0:halt_on_error=1
UBSAN_OPTIONS_RUN := print_stacktrace=1:halt_on_error=1

VALGRIND_FLAGS := -q --keep-debuginfo=yes --leak-check=full --error-exitcode=99 \
                  --errors-for-leak-kinds=definite

# ---------------------------------------------------------------- sources
HTTPD_SRC := csrc/ct_http.c csrc/lserve.c
CSRC     := $(filter-out $(HTTPD_SRC),$(sort $(wildcard csrc/*.c)))
CORE_SRC := $(filter-out $(HTTPD_SRC),$(sort $(wildcard csrc/ct_*.c)))
HDRS     := $(sort $(wildcard csrc/*.h))
CTESTS   := $(sort $(wildcard spec/c/test_*.c))
ROCKSPEC := crosstenant-0.1.0-1.rockspec
# objects the C tests link: the core, with ct_util's test build
CTEST_OBJ := $(filter-out ct_util,$(CORE_SRC:csrc/%.c=%)) ct_util_alloctest

LINT_PATHS := $(wildcard lua spec examples bench) $(wildcard bin/*)

# ---------------------------------------------------------------- busted
LPATH := ./lua/?.lua;./lua/?/init.lua
SUMMARY := spec/support/summary.lua
SPEC   ?= spec
FILTER ?=
BUSTED_ARGS = --lpath='$(LPATH)' --cpath='./build/$(1)/?.so' \
              -o $(SUMMARY) \
              $(if $(FILTER),--filter='$(FILTER)') $(SPEC)

# ---------------------------------------------------------------- rules
# flavour_rules(flavour, extra cflags, extra ldflags)
define flavour_rules
build/$(1)/obj/%.o: csrc/%.c $(HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $(2) -Icsrc -c $$< -o $$@

build/$(1)/crosstenant/core.so: $(CSRC:csrc/%.c=build/$(1)/obj/%.o)
	@mkdir -p $$(@D)
	$$(CC) $(2) -o $$@ $$^ $$(SO_LDFLAGS) $(3) $$(CORE_LIBS)

build/$(1)/crosstenant/httpd.so: $(HTTPD_SRC:csrc/%.c=build/$(1)/obj/%.o)
	@mkdir -p $$(@D)
	$$(CC) $(2) -o $$@ $$^ $$(SO_LDFLAGS) $(3) $$(HTTPD_LIBS)

# The C tests link ct_util built with -DCT_ALLOC_TESTING: its allocator
# then has the failure hook the out-of-memory tests use (ct_util.h).
build/$(1)/obj/ct_util_alloctest.o: csrc/ct_util.c $(HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $(2) -DCT_ALLOC_TESTING -Icsrc -c $$< -o $$@

build/$(1)/ctest/%: spec/c/%.c spec/c/check.h \
    $(CTEST_OBJ:%=build/$(1)/obj/%.o) $(HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $(2) -DCT_ALLOC_TESTING -Icsrc -o $$@ $$< \
	  $(CTEST_OBJ:%=build/$(1)/obj/%.o) $$(LDFLAGS) $(3) \
	  $$(CTEST_LDFLAGS_$$*) $$(CORE_LIBS) -lm
endef

# test_snap fails allocations on purpose: the allocator is wrapped
CTEST_LDFLAGS_test_snap := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

$(eval $(call flavour_rules,plain,,))
$(eval $(call flavour_rules,asan,$(ASAN_CFLAGS),$(SAN_FLAGS)))
$(eval $(call flavour_rules,cov,$(COV_CFLAGS),--coverage))

# Objects and test binaries are never intermediate files to delete.
.SECONDARY:

# Tools come first for the goals that run something, also under -j.
DEPS_GOALS := test demo demo-http check lint ctest ctest-asan asan valgrind \
              coverage rock doc
ifneq ($(filter $(DEPS_GOALS),$(MAKECMDGOALS)),)
$(foreach f,plain asan cov,$(CSRC:csrc/%.c=build/$(f)/obj/%.o) \
  $(HTTPD_SRC:csrc/%.c=build/$(f)/obj/%.o)): | deps
endif

.PHONY: all deps test ctest ctest-asan lint asan valgrind coverage rock \
        check demo demo-http doc clean node-deps

all: build/plain/crosstenant/core.so build/plain/crosstenant/httpd.so

# ---------------------------------------------------------------- deps
DEB_PACKAGES := build-essential pkg-config lua5.4 liblua5.4-dev lua-cjson \
                lua-busted lua-check valgrind libsqlite3-dev lua-ldoc \
                libmicrohttpd-dev lua-argparse curl openssl

# ensure_pkgs(list): install the missing Debian packages of `list`, quietly
# doing nothing when all are there.
define ensure_pkgs
if ! command -v dpkg-query >/dev/null 2>&1; then \
  echo "deps: not a Debian system; install: $(1)" >&2; exit 0; fi; \
have=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(1) 2>/dev/null \
        | awk '$$1 == "ii" { print $$2 }'); \
missing=; for p in $(1); do \
  case " $$(echo $$have) " in *" $$p "*) ;; *) missing="$$missing $$p";; esac; \
done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
  echo "deps: installing$$missing"; \
  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends $$missing >/dev/null || exit 1; \
fi
endef

deps:
	@$(call ensure_pkgs,$(DEB_PACKAGES))

# ---------------------------------------------------------------- node
# The official Graph JavaScript clients of spec/31 and the hostile clients
# of spec/32 run on node (20 on the image; Debian's nodejs and npm when
# `node` is missing).  `npm ci` installs the pinned packages of
# spec/node/package-lock.json, only when node_modules is missing or older
# than the lockfile.
NODE_DIR := spec/node
NODE_STAMP := $(NODE_DIR)/node_modules/.package-lock.json

$(NODE_STAMP): $(NODE_DIR)/package-lock.json $(NODE_DIR)/package.json
	@if ! command -v node >/dev/null 2>&1 || \
	    ! command -v npm >/dev/null 2>&1; then \
	  $(call ensure_pkgs,nodejs npm); fi
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: $(NODE_STAMP)

# ---------------------------------------------------------------- tests
test: deps build/plain/crosstenant/core.so build/plain/crosstenant/httpd.so $(NODE_STAMP)
	$(BUSTED) $(call BUSTED_ARGS,plain)

# run_ctests(flavour, env): run every C test binary, fail if any failed.
define run_ctests
@if [ -z "$(CTESTS)" ]; then echo "ctest: no spec/c/test_*.c"; exit 0; fi; \
rc=0; for t in $(CTESTS:spec/c/%.c=build/$(1)/ctest/%); do \
  echo "== $$t"; $(2) ./$$t || { echo "FAILED: $$t" >&2; rc=1; }; \
done; exit $$rc
endef

ctest: deps $(CTESTS:spec/c/%.c=build/plain/ctest/%)
	$(call run_ctests,plain,)

ctest-asan: deps $(CTESTS:spec/c/%.c=build/asan/ctest/%)
	$(call run_ctests,asan,ASAN_OPTIONS=$(ASAN_OPTIONS_RUN) UBSAN_OPTIONS=$(UBSAN_OPTIONS_RUN))

# Only the sanitizer runtime is preloaded, not the module: the module links
# libmicrohttpd and so GnuTLS and p11-kit, and preloaded, p11-kit's
# destructor deadlocks at exit (freelocale) in every child process (the
# command's specs, coreutils).  Loaded by require, it does not; leak stacks
# through the module may then lose its symbols once Lua unloads it.
# spec/10 checks the command finds the tree's plain build by itself: build it.
asan: deps build/asan/crosstenant/core.so build/asan/crosstenant/httpd.so build/plain/crosstenant/core.so $(NODE_STAMP)
	LD_PRELOAD="$(ASAN_RT)" \
	ASAN_OPTIONS=$(ASAN_OPTIONS_RUN) UBSAN_OPTIONS=$(UBSAN_OPTIONS_RUN) \
	$(BUSTED) $(call BUSTED_ARGS,asan)

# Servers that spec/32 starts (the hostile clients) run under valgrind too.
valgrind: deps build/plain/crosstenant/core.so build/plain/crosstenant/httpd.so $(NODE_STAMP)
	CT_SERVE_WRAP='$(VALGRIND) $(VALGRIND_FLAGS)' \
	$(VALGRIND) $(VALGRIND_FLAGS) $(BUSTED) $(call BUSTED_ARGS,plain)

# Coverage of the pure core (csrc/ct_*.c) by the busted suite and the
# C unit tests together.  Extra gcovr flags: GCOVR_FLAGS=--fail-under-line=90
GCOVR_FLAGS ?=
coverage: deps build/cov/crosstenant/core.so build/cov/crosstenant/httpd.so $(NODE_STAMP) $(CTESTS:spec/c/%.c=build/cov/ctest/%)
	@$(call ensure_pkgs,gcovr)
	@rm -f build/cov/obj/*.gcda
	$(BUSTED) $(call BUSTED_ARGS,cov)
	$(call run_ctests,cov,)
	$(GCOVR) --root . --filter 'csrc/ct_[^/]*\.c$$' \
	  --txt build/cov/coverage.txt --print-summary $(GCOVR_FLAGS) build/cov/obj
	$(GCOVR) --root . --filter 'csrc/ct_[^/]*\.c$$' --branches \
	  --txt build/cov/coverage-branches.txt build/cov/obj
	@cat build/cov/coverage.txt build/cov/coverage-branches.txt
	@echo "coverage: build/cov/coverage.txt build/cov/coverage-branches.txt"

lint: deps
	$(LUACHECK) --no-color $(LINT_PATHS)

# ---------------------------------------------------------------- rock
# luarocks' builtin build compiles inside the source folder, so it runs on
# a copy under build/rock/src; the rock is installed into build/rock/tree.
ROCK_DIR := build/rock
ROCK_TREE = $(CURDIR)/$(ROCK_DIR)/tree
ROCK_LUA := require "crosstenant";
ROCK_LUA += local l = package.searchpath("crosstenant", package.path);
ROCK_LUA += local c = package.searchpath("crosstenant.core", package.cpath);
ROCK_LUA += assert(l and l:find("/$(ROCK_DIR)/tree/", 1, true), l);
ROCK_LUA += assert(c and c:find("/$(ROCK_DIR)/tree/", 1, true), c);
ROCK_LUA += print("rock: loaded " .. l .. " and " .. c)
# The builtin build cannot glob: the rockspec must list every csrc/*.c.
ROCKSPEC_LUA := local t = {}; assert(loadfile("$(ROCKSPEC)", "t", t))();
ROCKSPEC_LUA += local got = t.build.modules["crosstenant.core"].sources;
ROCKSPEC_LUA += table.sort(got); got = table.concat(got, " ");
ROCKSPEC_LUA += local want = "$(CSRC)";
ROCKSPEC_LUA += local h = t.build.modules["crosstenant.httpd"].sources;
ROCKSPEC_LUA += table.sort(h); h = table.concat(h, " ");
ROCKSPEC_LUA += if got ~= want or h ~= "$(HTTPD_SRC)" then
ROCKSPEC_LUA +=   io.stderr:write("rock: $(ROCKSPEC) lists\n  ", got, "\n  ", h,
ROCKSPEC_LUA +=   "\nbut csrc/*.c is\n  ", want, "\n  $(HTTPD_SRC)\n") os.exit(1) end
rock: deps
	@$(call ensure_pkgs,luarocks)
	@$(LUA) -e '$(ROCKSPEC_LUA)'
	@rm -rf $(ROCK_DIR) && mkdir -p $(ROCK_DIR)/src
	@cp -R $(ROCKSPEC) csrc lua $(ROCK_DIR)/src/
	@if [ -d bin ]; then cp -R bin $(ROCK_DIR)/src/; fi
	@printf '%s\n' \
	  'rocks_trees = { [[$(ROCK_TREE)]] }' \
	  'rocks_provided = { ["lua-cjson"] = "2.1.0-1", argparse = "0.7.1-1" }' \
	  > $(ROCK_DIR)/config.lua
	cd $(ROCK_DIR)/src && LUAROCKS_CONFIG=$(CURDIR)/$(ROCK_DIR)/config.lua \
	  $(LUAROCKS) --lua-version=5.4 --tree=$(ROCK_TREE) make $(ROCKSPEC) \
	  >$(CURDIR)/$(ROCK_DIR)/make.log 2>&1 || \
	  { cat $(CURDIR)/$(ROCK_DIR)/make.log; exit 1; }
	cd $(ROCK_DIR) && \
	  LUA_PATH='$(ROCK_TREE)/share/lua/5.4/?.lua;$(ROCK_TREE)/share/lua/5.4/?/init.lua;;' \
	  LUA_CPATH='$(ROCK_TREE)/lib/lua/5.4/?.so;;' \
	  $(LUA) -e '$(ROCK_LUA)'

# ---------------------------------------------------------------- check
# What CI runs; the plain suite comes last so its summary is the last line.
SUBMAKE = $(MAKE) --no-print-directory
CHECK_STEPS := lint doc ctest ctest-asan asan valgrind rock fuzz-replay test
check: deps
	@for step in $(CHECK_STEPS); do \
	  echo "== make $$step"; \
	  $(SUBMAKE) $$step || exit 1; \
	done

demo: deps build/plain/crosstenant/core.so build/plain/crosstenant/httpd.so
	LUA_PATH='$(LPATH);;' LUA_CPATH='./build/plain/?.so;;' \
	  $(LUA) bin/crosstenant run examples/01_clean_migration.lua

# examples/demo.lua: the HTTP API step by step, on its own store
demo-http: deps build/plain/crosstenant/core.so build/plain/crosstenant/httpd.so
	LUA_PATH='$(LPATH);;' LUA_CPATH='./build/plain/?.so;;' \
	  $(LUA) examples/demo.lua

# The API reference (config.ld): build/doc/index.html.  A docstring LDoc
# can't read (a parameter named unlike the function's, a bad reference)
# fails the goal, and so `make check`.
doc: deps
	@rm -rf build/doc
	$(LDOC) --fatalwarnings --testing --quiet .
	@echo "doc: build/doc/index.html"

# build/ holds every build; `luarocks make` in the tree leaves objects in
# csrc/ and the module in crosstenant/.
clean:
	rm -rf build $(NODE_DIR)/node_modules
	rm -f csrc/*.o crosstenant/core.so crosstenant/httpd.so
	@if [ -d crosstenant ]; then rmdir crosstenant 2>/dev/null || true; fi

# ---------------------------------------------------------------- bench
# `make bench`: bench/bench.lua (each figure beside its floor, each
# measure in a process of its own), then bench/core_bench.c, the core
# without Lua.  Not part of test or check; see docs/performance.md.
BENCH_ROUNDS ?= 7
.PHONY: bench bench-server
bench: deps
	@$(SUBMAKE) build/plain/crosstenant/core.so build/plain/crosstenant/httpd.so build/bench/core_bench
	$(LUA) bench/bench.lua --rounds=$(BENCH_ROUNDS)
	./build/bench/core_bench $(BENCH_ROUNDS)

# `make bench-server`: crosstenant serve under wrk (1 thread, 4
# connections, loopback) next to the HTTP layer's ceiling, with RSS; see
# bench/serve_bench.lua and docs/performance.md.
BENCH_SERVER_SECONDS ?= 5
bench-server: deps build/plain/crosstenant/core.so build/plain/crosstenant/httpd.so
	@$(call ensure_pkgs,wrk curl)
	$(LUA) bench/serve_bench.lua --seconds=$(BENCH_SERVER_SECONDS)

build/bench/core_bench: bench/core_bench.c \
                        $(CORE_SRC:csrc/%.c=build/plain/obj/%.o) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARNFLAGS) $(CFLAGS) -Icsrc -o $@ $< \
	  $(CORE_SRC:csrc/%.c=build/plain/obj/%.o) $(LDFLAGS) $(CORE_LIBS) -lm

# ---------------------------------------------------------------- fuzz
# libFuzzer targets in fuzz/ (see docs/hardening.md), built with clang into
# build/fuzz/.  `make fuzz FUZZ_TIME=60` fuzzes each target for FUZZ_TIME
# seconds from its corpus fuzz/corpus/<t>; new inputs go to
# build/fuzz/corpus-<t>, crashes to build/fuzz/<t>-crash-*, logs to
# build/fuzz/<t>.log.  `make fuzz-replay` runs every corpus file once
# (regression, no fuzzing).  FUZZ_TARGETS=json picks targets.
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_TARGETS ?= request core_request time guid json encode query snap
FUZZ_ARGS   ?=
FUZZ_PACKAGES := clang libclang-rt-14-dev lua5.4 liblua5.4-dev lua-cjson \
                 libsqlite3-dev libmicrohttpd-dev
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer
FUZZ_CFLAGS := $(WARNFLAGS) -O1 -g $(FUZZ_SAN) $(LUA_CFLAGS) -Icsrc \
               -DCT_ROOT='"$(CURDIR)"'
# targets that embed Lua link the whole module and liblua5.4
FUZZ_LUA    := request encode
FUZZ_MAXLEN_request := 16384
FUZZ_MAXLEN_json    := 8192
FUZZ_MAXLEN_encode  := 4096
FUZZ_MAXLEN_time    := 64
FUZZ_MAXLEN_guid    := 512
FUZZ_MAXLEN_query   := 1024
FUZZ_MAXLEN_snap    := 65536
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

build/fuzz/obj/%.o: csrc/%.c $(HDRS) | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

FUZZ_CORE_OBJ := $(CORE_SRC:csrc/%.c=build/fuzz/obj/%.o)
FUZZ_ALL_OBJ  := $(CSRC:csrc/%.c=build/fuzz/obj/%.o)

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/embed.h $(FUZZ_ALL_OBJ) | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	  $(if $(filter $*,$(FUZZ_LUA)),$(FUZZ_ALL_OBJ) -llua5.4,$(FUZZ_CORE_OBJ)) \
	  $(CORE_LIBS) -lm

fuzz-deps:
	@$(call ensure_pkgs,$(FUZZ_PACKAGES))

fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

# fuzz every target in turn; a crash fails the goal after the others ran
fuzz: fuzz-build
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$t; \
	  echo "== fuzz $$t for $(FUZZ_TIME) s (log: build/fuzz/$$t.log)"; \
	  $(FUZZ_ENV) ./build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) \
	    -print_final_stats=1 -max_len=$$(case $$t in \
	      request|core_request) echo $(FUZZ_MAXLEN_request);; json) echo $(FUZZ_MAXLEN_json);; \
	      encode) echo $(FUZZ_MAXLEN_encode);; time) echo $(FUZZ_MAXLEN_time);; \
	      query) echo $(FUZZ_MAXLEN_query);; snap) echo $(FUZZ_MAXLEN_snap);; \
	      *) echo $(FUZZ_MAXLEN_guid);; esac) \
	    $$(if [ -f fuzz/dict/$$t.dict ]; then echo -dict=fuzz/dict/$$t.dict; fi) \
	    -artifact_prefix=build/fuzz/$$t- $(FUZZ_ARGS) \
	    build/fuzz/corpus-$$t fuzz/corpus/$$t >build/fuzz/$$t.log 2>&1 \
	    || { echo "FAILED: fuzz $$t (see build/fuzz/$$t.log)" >&2; rc=1; }; \
	  grep -E '^#[0-9]+.*(DONE|cov:)' build/fuzz/$$t.log | tail -n 1; \
	done; exit $$rc

# replay every corpus file once: a regression check, no fuzzing
fuzz-replay: fuzz-build
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  n=$$(ls fuzz/corpus/$$t | wc -l); \
	  echo "== fuzz-replay $$t: $$n inputs"; \
	  $(FUZZ_ENV) ./build/fuzz/fuzz_$$t fuzz/corpus/$$t/* \
	    >build/fuzz/replay-$$t.log 2>&1 \
	    || { tail -n 30 build/fuzz/replay-$$t.log >&2; \
	         echo "FAILED: fuzz-replay $$t" >&2; rc=1; }; \
	done; exit $$rc

.PHONY: fuzz fuzz-replay fuzz-build fuzz-deps
