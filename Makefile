# raftsim — see README.md for what each target does.
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -std=gnu11 -Wall -Wextra -Werror
DEPS_PKGS = libuv msgpack libpq libmicrohttpd libedit libcrypto jansson
CPPFLAGS += -I. -MMD -MP
BUILD    ?= build
STAMP     = $(BUILD)/.deps-installed

# One folder per concept under sim/ (README, "Layout"); the binary's main
# is sim/cli/main.c, everything else goes into one library.
SIM_DIRS = util scenario cluster node pg report runner bench live cli
CORE_SRC = $(wildcard raft/*.c) $(wildcard net/*.c) \
           $(filter-out sim/cli/main.c,$(foreach d,$(SIM_DIRS),$(wildcard sim/$(d)/*.c)))
TEST_SRC = $(filter-out tests/fuzz_%.c,$(wildcard tests/*.c))

CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ = $(BUILD)/obj/sim/cli/main.o

PKG_CFLAGS = $(shell pkg-config --cflags $(DEPS_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(DEPS_PKGS) 2>/dev/null)
CRIT_LIBS  = $(shell pkg-config --libs criterion 2>/dev/null)

.PHONY: all check test test-lane-local test-lane-docker asan valgrind bench bench-report clean deps fuzz fuzz-codec fuzz-scenario fuzz-step demo
all: $(BUILD)/raftsim

deps: $(STAMP)
$(STAMP): tools/install-deps
	@mkdir -p $(BUILD)
	tools/install-deps
	@touch $@

$(BUILD)/obj/%.o: %.c | $(STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) -c $< -o $@

# The report page (sim/report/report_page.html) becomes a C string at
# build time, with the views it shares with the live page (a line
# @@INCLUDE FILE@@ is replaced by that file) inlined: one self-contained
# page.
CPPFLAGS += -I$(BUILD)/gen
REPORT_VIEWS = sim/report/report_model.js sim/report/report_lamport.js \
               sim/report/report_wal.js sim/report/report_views.css
$(BUILD)/gen/report_page.h: sim/report/report_page.html $(REPORT_VIEWS)
	@mkdir -p $(dir $@)
	{ echo '/* generated from sim/report/report_page.html by the Makefile */'; \
	  echo 'static const char report_page_html[] ='; \
	  awk '/^@@INCLUDE [^ ]*@@$$/ { f = substr($$2, 1, length($$2) - 2); \
	         if ((getline l < f) <= 0) { print "missing " f > "/dev/stderr"; exit 1 } \
	         do print l; while ((getline l < f) > 0); close(f); next } { print }' $< | \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	      -e 's/^/"/' -e 's/$$/\\n"/'; echo ';'; } > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/sim/report/report.o: $(BUILD)/gen/report_page.h

# The live page and its assets (sim/live/) become C strings the same way.
LIVE_ASSETS = sim/live/live_page.html sim/live/live.js sim/live/live_cluster.js \
              sim/live/live_clients.js sim/live/live_act.js sim/live/live.css \
              sim/live/live_timeline.js sim/live/live_timeline.css $(REPORT_VIEWS)
$(BUILD)/gen/live_assets.h: $(LIVE_ASSETS)
	@mkdir -p $(dir $@)
	{ echo '/* generated from sim/live/ by the Makefile */'; \
	  for f in $(LIVE_ASSETS); do \
	    n=$$(basename $$f | sed 's/[.-]/_/g'); \
	    echo "static const char $$n[] ="; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	        -e 's/^/"/' -e 's/$$/\\n"/' $$f; echo ';'; \
	  done; } > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/sim/live/live_http.o: $(BUILD)/gen/live_assets.h

$(BUILD)/libraftsim.a: $(CORE_OBJ)
	ar rcs $@ $^

$(BUILD)/raftsim: $(MAIN_OBJ) $(BUILD)/libraftsim.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/tests: $(TEST_OBJ) $(BUILD)/libraftsim.a
	$(CC) $(CFLAGS) -o $@ $^ $(CRIT_LIBS) $(PKG_LIBS) -lm

# The quick suite, for a teacher on a shared lab machine: the layout
# check, the Criterion unit and simulation tests, the CLI checks, every
# scenario under the virtual clock and the scripted live shell.  No PostgreSQL, no browser, no root (once the packages
# are installed); under 60 s on 2 cores.
# (LSAN_OPTIONS: Criterion 2.4 leaks one allocation of its own.)
check: $(BUILD)/tests $(BUILD)/raftsim
	tests/layout.sh
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(BUILD)/tests --jobs=2
	RAFTSIM=$(BUILD)/raftsim tests/cli.sh
	RAFTSIM=$(BUILD)/raftsim CLOCKS=virtual tests/scenarios.sh
	RAFTSIM=$(BUILD)/raftsim tests/shell.sh

# The suite: `check`, then every scenario over loopback TCP (one process,
# then one process per node; tests/node.sh: `raftsim node`), the mirrored
# scenarios and the health endpoint on a real PostgreSQL pair (tests/pg.sh
# brings it up and takes it down), as local processes and as Docker
# containers, then the Docker traps, the host left untouched and the
# docker-compose file (tests/pg-docker.sh), the report page in headless Chromium
# (tests/report.sh), the live classroom's server and page (tests/live.sh),
# every command README.md and the --help texts show
# (tests/docs.sh), then a short pass of each fuzzer.  Each stage is timed
# (tests/stage.sh): a line per stage, and at the end one line with them
# all (also in $(BUILD)/test-stages).
FUZZ_SHORT ?= 5
STAGES = $(BUILD)/test-stages
STAGE = tests/stage.sh $(STAGES)
test: $(BUILD)/tests $(BUILD)/raftsim
	@$(STAGE) --start
	$(STAGE) check $(MAKE) --no-print-directory check
	$(STAGE) real env RAFTSIM=$(BUILD)/raftsim CLOCKS=real tests/scenarios.sh
	$(STAGE) processes env RAFTSIM=$(BUILD)/raftsim CLOCKS=processes tests/scenarios.sh
	$(STAGE) node env RAFTSIM=$(BUILD)/raftsim tests/node.sh
	@$(MAKE) --no-print-directory -j2 --output-sync=line test-lane-local test-lane-docker
	@$(STAGE) --summary

# After node, the suite in two lanes side by side, about 14 minutes each
# here: most of either is waiting (PostgreSQL's own steps, dockerd and
# containers starting, Chromium, commands that run for a set time), and
# nothing in one touches the other's servers (tests/pg.sh picks free
# ports and its own directory on each backend, the Docker stages run a
# private dockerd, docs.sh's pair is tools/pg-pair's default).  Each
# output line stays whole (--output-sync=line); the stages' lines say
# which is which.
test-lane-local: $(BUILD)/tests $(BUILD)/raftsim
	$(STAGE) pg env RAFTSIM=$(BUILD)/raftsim tests/pg.sh
	$(STAGE) report env RAFTSIM=$(BUILD)/raftsim tests/report.sh
	$(STAGE) live env RAFTSIM=$(BUILD)/raftsim tests/live.sh
	$(STAGE) fuzz $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SHORT)

test-lane-docker: $(BUILD)/tests $(BUILD)/raftsim
	$(STAGE) pg-docker env RAFTSIM=$(BUILD)/raftsim tests/pg.sh --docker
	$(STAGE) docker-traps env RAFTSIM=$(BUILD)/raftsim tests/pg-docker.sh
	$(STAGE) docs env RAFTSIM=$(BUILD)/raftsim tests/docs.sh

# The split-brain walkthrough over loopback TCP, slowed down for a class.
# On a terminal it pauses at each `step` of the file until Enter
# (DEMO_STEP=0: straight through); piped, it runs through.  Ctrl-C stops
# it with the summary of what ran.
DEMO_SCALE ?= 25
DEMO_STEP ?= 1
demo: $(BUILD)/raftsim
	$(BUILD)/raftsim run --clock real --time-scale $(DEMO_SCALE) \
	  --step=$(if $(filter 0,$(DEMO_STEP)),never,auto) scenarios/split-brain.scn

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: | $(STAMP)
	$(MAKE) BUILD=build/asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  STAMP=$(STAMP) test

# The command line under valgrind's memcheck (tests/valgrind.sh): no
# invalid access, no uninitialised read, no definite or indirect leak.
valgrind: $(BUILD)/raftsim
	RAFTSIM=$(BUILD)/raftsim tests/valgrind.sh

# libFuzzer on the wire decoder (seeded with valid frames), on the
# scenario parser (seeded with scenarios/) and on the core behind a fake
# peer whose frames are the input (seeded with a third node's traffic and
# the issue-15 probe's frames), each for a bounded time (FUZZ_SECONDS,
# default 60).  Crashes land in build/fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_SRC = raft/wal.c raft/names.c net/codec.c net/codec_encode.c
FUZZ_FLAGS = -rss_limit_mb=512 -malloc_limit_mb=64 -timeout=10 -print_final_stats=1
fuzz: fuzz-codec fuzz-scenario fuzz-step

fuzz-scenario: | $(STAMP)
	@mkdir -p build/fuzz/corpus-scenario
	cp scenarios/*.scn build/fuzz/corpus-scenario/
	clang $(WARN) -O1 -g -I. -fsanitize=fuzzer,address,undefined tests/fuzz_scenario.c \
	  $(wildcard sim/scenario/*.c) $(wildcard sim/util/*.c) \
	  raft/names.c raft/wal.c -o build/fuzz/fuzz-scenario
	cd build/fuzz && { ./fuzz-scenario -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	  -max_len=8192 -dict=../../tests/scenario.dict corpus-scenario >scenario.log 2>&1; \
	  rc=$$?; tail -n 15 scenario.log; exit $$rc; }

# The step fuzzer runs a whole simulated cluster per input: -timeout
# bounds one input's wall time, the input itself bounds its records and
# virtual time (tests/fuzz_step.c).
STEP_SRC = $(wildcard raft/*.c) $(wildcard net/*.c) $(wildcard sim/util/*.c) \
           $(wildcard sim/cluster/*.c)
fuzz-step: | $(STAMP)
	@mkdir -p build/fuzz/corpus-step
	clang $(WARN) -O1 -g -I. -DFUZZ_GEN_CORPUS tests/fuzz_step.c $(FUZZ_SRC) \
	  -o build/fuzz/gen-step-corpus $$(pkg-config --cflags --libs msgpack)
	build/fuzz/gen-step-corpus build/fuzz/corpus-step
	clang $(WARN) -O1 -g -I. -fsanitize=fuzzer,address,undefined tests/fuzz_step.c \
	  $(STEP_SRC) -o build/fuzz/fuzz-step \
	  $$(pkg-config --cflags --libs msgpack libuv libcrypto jansson) -lm
	cd build/fuzz && { ./fuzz-step -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	  -max_len=8192 corpus-step >step.log 2>&1; rc=$$?; tail -n 15 step.log; \
	  exit $$rc; }

fuzz-codec: | $(STAMP)
	@mkdir -p build/fuzz/corpus-codec
	clang $(WARN) -O1 -g -I. -DFUZZ_GEN_CORPUS tests/fuzz_codec.c $(FUZZ_SRC) \
	  -o build/fuzz/gen-codec-corpus $$(pkg-config --cflags --libs msgpack)
	build/fuzz/gen-codec-corpus build/fuzz/corpus-codec
	clang $(WARN) -O1 -g -I. -fsanitize=fuzzer,address,undefined tests/fuzz_codec.c \
	  $(FUZZ_SRC) -o build/fuzz/fuzz-codec $$(pkg-config --cflags --libs msgpack)
	cd build/fuzz && { ./fuzz-codec -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	  corpus-codec >codec.log 2>&1; rc=$$?; tail -n 15 codec.log; exit $$rc; }

# Speed of the simulator (and explore's seeds/s by cluster size on 1 and 2
# workers, BENCH_EXPLORE_TIME per figure; seeds to the first failure of each
# --unsafe rule over BENCH_EXPLORE_STARTS windows), then over loopback TCP: failover (the Raft
# paper's Figure 16, BENCH_TRIALS per range; CSV in build/bench/), a
# switchover (leadership transfer, BENCH_SWITCHOVER_TRIALS), throughput,
# and the memory of a large cluster; then a real PostgreSQL
# pair's failover (tools/pg-pair; also detected, BENCH_PG_DETECT_TRIALS),
# its switchover in a mirrored run (BENCH_PG_SWITCHOVER_TRIALS) and the
# health endpoint over that pair (2,000 GETs from 50 clients, then 64
# slowloris connections).
# Failover is measured twice more at 150-300 ms, kill and silent crashes,
# with fast detection on and off (BENCH_FAST_TRIALS each).  Everything
# printed lands in build/bench/results.md (BENCH_RESULTS) with the date,
# machine, load and commit (tools/bench-results): the README's Performance
# section quotes it.
# Throughput runs twice: BENCH_DURATION with the logs growing, then
# BENCH_SNAP_DURATION with a snapshot every 1,000 entries, whose RSS
# line shows the memory held flat.
# BENCH_DURATION, BENCH_SNAP_DURATION, BENCH_HOLD, BENCH_RSS_NODES and BENCH_PG_TRIALS shorten
# a run (tests/docs.sh).
BENCH_TRIALS ?= 20
BENCH_DURATION ?= 5s
BENCH_SNAP_DURATION ?= 60s
BENCH_HOLD ?= 10s
BENCH_RSS_NODES ?= 100
BENCH_PG_TRIALS ?= 10
BENCH_PG_DETECT_TRIALS ?= 20
BENCH_PG_SWITCHOVER_TRIALS ?= 20
BENCH_SWITCHOVER_TRIALS ?= 50
BENCH_EXPLORE_TIME ?= 2s
BENCH_FAST_TRIALS ?= 30
BENCH_EXPLORE_STARTS ?= 10
BENCH_PROC_TRIALS ?= 20
BENCH_PROC_RSS_NODES ?= 101
BENCH_RESULTS ?= $(BUILD)/bench/results.md
bench: $(BUILD)/raftsim
	@mkdir -p $(BUILD)/bench
	tools/bench-results $(BENCH_RESULTS) \
	  "$(BUILD)/raftsim bench sim" \
	  "$(BUILD)/raftsim bench explore --seconds $(BENCH_EXPLORE_TIME) --starts $(BENCH_EXPLORE_STARTS)" \
	  "$(BUILD)/raftsim bench failover --trials $(BENCH_TRIALS) --csv $(BUILD)/bench/failover.csv" \
	  "$(BUILD)/raftsim bench failover --trials $(BENCH_FAST_TRIALS) --ranges 150ms-300ms" \
	  "$(BUILD)/raftsim bench failover --trials $(BENCH_FAST_TRIALS) --ranges 150ms-300ms --no-fast-detect" \
	  "$(BUILD)/raftsim bench failover --processes --trials $(BENCH_PROC_TRIALS) --ranges 150ms-300ms" \
	  "$(BUILD)/raftsim bench failover --processes --trials $(BENCH_PROC_TRIALS) --ranges 150ms-300ms --no-fast-detect" \
	  "$(BUILD)/raftsim bench switchover --trials $(BENCH_SWITCHOVER_TRIALS)" \
	  "$(BUILD)/raftsim bench throughput --nodes 3 --duration $(BENCH_DURATION)" \
	  "$(BUILD)/raftsim bench throughput --nodes 3 --duration $(BENCH_SNAP_DURATION) --snapshot-every 1000" \
	  "$(BUILD)/raftsim bench rss --nodes $(BENCH_RSS_NODES) --hold $(BENCH_HOLD)" \
	  "$(BUILD)/raftsim bench rss --processes --nodes $(BENCH_PROC_RSS_NODES) --hold $(BENCH_HOLD) --time-scale 10" \
	  "$(BUILD)/raftsim bench live" \
	  "tools/pg-pair up >/dev/null && $(BUILD)/raftsim bench pg-failover --trials $(BENCH_PG_TRIALS) && $(BUILD)/raftsim bench pg-failover --detect --trials $(BENCH_PG_DETECT_TRIALS) && $(BUILD)/raftsim bench switchover --pg --trials $(BENCH_PG_SWITCHOVER_TRIALS) && $(BUILD)/raftsim bench health --requests 2000 --concurrency 50 --slowloris 64; rc=\$$?; tools/pg-pair down >/dev/null; exit \$$rc"

# A report of over a million trace lines in headless Chromium: the time to
# open it, step and redraw, printed (tests/report_big.sh).
bench-report: $(BUILD)/raftsim
	RAFTSIM=$(BUILD)/raftsim tests/report_big.sh

clean:
	rm -rf build

-include $(CORE_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
