# lb - Layer-4 TCP load balancer.  Plain make + pkg-config.
#
#   make run     install missing packages, build, start the demo in the foreground
#   make check   install missing packages, build, run every test
#   make asan    the whole test suite under ASan+UBSan (build/asan/)
#   make install PREFIX=/usr/local DESTDIR=
#
VERSION	:= 0.1.0
BUILD	?= build
PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc

PKGS	:= libevent libconfig openssl
WARN	:= -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
	   -Wstrict-prototypes -Wpointer-arith -Wno-unused-parameter
ifeq ($(CI),true)
WARN	+= -Werror
endif
ifdef WERROR
WARN	+= -Werror
endif
OPT	?= -O2 -g
override CFLAGS	+= -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -MMD -MP \
	   -DLB_VERSION='"$(VERSION)"' -Icommon -Ilb -Ifailover \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS	+= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

COMMON_SRC := $(wildcard common/*.c)
LB_SRC	   := $(filter-out lb/main.c lb/lbctl.c,$(wildcard lb/*.c))
FO_SRC	   := $(filter-out failover/main.c,$(wildcard failover/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)
BENCH_SRC  := $(wildcard tests/bench/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
LB_OBJ	   := $(call obj,$(LB_SRC))
FO_OBJ	   := $(call obj,$(FO_SRC))

BINS	:= $(BUILD)/lbd
ifneq ($(wildcard lb/lbctl.c),)
BINS	+= $(BUILD)/lbctl
endif
ifneq ($(wildcard failover/main.c),)
BINS	+= $(BUILD)/lb-failoverd
endif
ifneq ($(BENCH_SRC),)
BINS	+= $(BUILD)/lbbench
endif
UNITS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOLS	:= $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))

.PHONY: all deps run check test unit integ asan bench install uninstall clean
all: $(BINS) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/lbd: $(call obj,lb/main.c) $(LB_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lbctl: $(call obj,lb/lbctl.c) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lb-failoverd: $(call obj,failover/main.c) $(FO_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LB_OBJ) $(FO_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/tools/%: $(call obj,tests/tools/%.c) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lbbench: $(call obj,$(BENCH_SRC)) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm

# The comparison benchmark (lbd, HAProxy, nginx, direct); not part of check.
bench: deps
	@$(MAKE) --no-print-directory all
	@LB_BUILD=$(abspath $(BUILD)) tests/bench/run.sh

# Installs what is missing (apt-get; sudo when not root).  Does nothing
# when every package is present.  A fresh machine's apt lists are empty,
# so it updates them first.
DEB_PKGS := libevent-dev libconfig-dev libssl-dev check pkg-config
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "deps: installing$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# pkg-config flags are read when make starts; re-enter make after deps so
# a fresh machine picks them up.
run: deps
	@$(MAKE) --no-print-directory all
	@exec tests/demo/run.sh $(BUILD)

check: deps
	@$(MAKE) --no-print-directory all $(UNITS)
	@$(MAKE) --no-print-directory test

test: unit integ

unit: $(UNITS)
	@tests/run-unit.sh $(UNITS)

integ: $(BINS) $(TOOLS)
	@LB_BUILD=$(abspath $(BUILD)) tests/integ/run.sh

ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all
asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	  CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" all
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	  CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" \
	  $(patsubst $(BUILD)/%,build/asan/%,$(UNITS))
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 $(MAKE) --no-print-directory BUILD=build/asan test

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/lbd $(DESTDIR)$(PREFIX)/sbin/lbd
	if [ -f $(BUILD)/lb-failoverd ]; then install -m 0755 $(BUILD)/lb-failoverd $(DESTDIR)$(PREFIX)/sbin/; fi
	if [ -f $(BUILD)/lbctl ]; then install -m 0755 $(BUILD)/lbctl $(DESTDIR)$(PREFIX)/bin/; fi
	install -d $(DESTDIR)$(PREFIX)/share/doc/lb/examples
	install -m 0644 etc/*.conf $(DESTDIR)$(PREFIX)/share/doc/lb/examples/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/lbd $(DESTDIR)$(PREFIX)/sbin/lb-failoverd \
	      $(DESTDIR)$(PREFIX)/bin/lbctl
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/lb

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
