# lb - Layer-4 TCP load balancer.  Plain make + pkg-config.
#
#   make run     install missing packages, build, start the demo in the foreground
#   make check   install missing packages, build, run every test
#   make asan    the whole test suite under ASan+UBSan (build/asan/)
#   make fuzz    every libFuzzer target, FUZZ_SECONDS (60) each (build/fuzz/)
#   make install PREFIX=/usr/local DESTDIR=
#
VERSION	:= 0.1.0
BUILD	?= build
PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
V	?= 0
ifeq ($(V),0)
Q	:= @
else
Q	:=
endif

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

# Objects are not intermediate files: keep them, so a later make never
# relinks a test from a fresh object built with other flags.
.SECONDARY:

.PHONY: all deps run check test unit integ asan fuzz bench install uninstall clean
all: $(BINS) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" != 0 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/lbd: $(call obj,lb/main.c) $(LB_OBJ) $(COMMON_OBJ)
	@[ "$(V)" != 0 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lbctl: $(call obj,lb/lbctl.c) $(COMMON_OBJ)
	@[ "$(V)" != 0 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lb-failoverd: $(call obj,failover/main.c) $(FO_OBJ) $(COMMON_OBJ)
	@[ "$(V)" != 0 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LB_OBJ) $(FO_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	@[ "$(V)" != 0 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/tools/%: $(call obj,tests/tools/%.c) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	@[ "$(V)" != 0 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lbbench: $(call obj,$(BENCH_SRC)) $(COMMON_OBJ)
	@[ "$(V)" != 0 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm

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
	 $(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	  CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" test

# libFuzzer targets (tests/fuzz/fuzz_*.c), built by clang with ASan and
# UBSan over the project's own sources (compiled again by clang into
# $(FUZZ_DIR)/obj; clang, unlike gcc, counts a va_list format as
# nonliteral), then run FUZZ_SECONDS each by tests/fuzz/run.sh: a
# crash fails the target and its reproducer stays in $(FUZZ_DIR)/crashes/.
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(COMMON_SRC) $(LB_SRC) $(FO_SRC))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) -Wno-format-nonliteral \
		-MMD -MP $(FUZZ_SAN) \
		-fsanitize=fuzzer-no-link -DLB_VERSION='"$(VERSION)"' \
		-Icommon -Ilb -Ifailover $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

# Objects reached only through the pattern rule below would be deleted as
# intermediate after each link.
.PRECIOUS: $(FUZZ_DIR)/obj/%.o
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" != 0 ] || echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJ)
	@[ "$(V)" != 0 ] || echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# This one includes lb/health.c to reach its static matcher: no health.o.
$(FUZZ_DIR)/fuzz_health_match: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_health_match.o \
		$(filter-out $(FUZZ_DIR)/obj/lb/health.o,$(FUZZ_OBJ))
	@[ "$(V)" != 0 ] || echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: deps
	@$(MAKE) --no-print-directory deps DEB_PKGS="clang libclang-rt-14-dev"
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

# Install layout.  Every file `install` writes is listed in $(MANIFEST),
# and `uninstall` removes exactly those.  A sample config goes to $(ETCDIR)
# only when no file of that name is there (an operator's config is never
# overwritten); the manifest records its sha256, and uninstall removes it
# only when install put it there and nobody has changed it since.
BINDIR	 ?= $(PREFIX)/bin
SBINDIR	 ?= $(PREFIX)/sbin
MANDIR	 ?= $(PREFIX)/share/man
UNITDIR	 ?= $(PREFIX)/lib/systemd/system
DOCDIR	 ?= $(PREFIX)/share/doc/lb
COMPDIR	 ?= $(PREFIX)/share/bash-completion/completions
ETCDIR	 ?= /etc/lb
MANIFEST   := $(DOCDIR)/MANIFEST
MANPAGES   := $(wildcard lb/*.[58] failover/*.[58])
SD_UNITS   := $(wildcard systemd/*.service)
SAMPLES	   := $(wildcard etc/*.conf etc/*.sh)	# *.sh: hooks, mode 0755
COMPLETION := etc/bash-completion/lbctl
# What uninstall removes when the manifest is missing (never $(ETCDIR)).
INST_FILES := $(SBINDIR)/lbd $(SBINDIR)/lb-failoverd $(BINDIR)/lbctl \
	$(COMPDIR)/lbctl $(addprefix $(UNITDIR)/,$(notdir $(SD_UNITS))) \
	$(foreach p,$(MANPAGES),$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p))) \
	$(addprefix $(DOCDIR)/examples/,$(notdir $(SAMPLES)))

# Binaries that were built (lbctl, lb-failoverd only when their sources
# exist); unit paths under /usr/local rewritten to $(PREFIX).
install: all
	@set -e; D='$(DESTDIR)'; old="$$D$(MANIFEST)"; new=$$(mktemp); \
	trap 'rm -f "$$new" "$$new.unit"' EXIT; \
	put() { install -D -m "$$1" "$$2" "$$D$$3"; \
	  echo "F $$3" >>"$$new"; echo "install $$D$$3"; }; \
	for b in lbd lb-failoverd; do \
	  [ ! -f $(BUILD)/$$b ] || put 0755 $(BUILD)/$$b $(SBINDIR)/$$b; \
	done; \
	[ ! -f $(BUILD)/lbctl ] || put 0755 $(BUILD)/lbctl $(BINDIR)/lbctl; \
	for p in $(MANPAGES); do \
	  put 0644 $$p $(MANDIR)/man$${p##*.}/$${p##*/}; \
	done; \
	for u in $(SD_UNITS); do \
	  sed '/^Exec/s|/usr/local/|$(PREFIX)/|g' $$u >"$$new.unit"; \
	  put 0644 "$$new.unit" $(UNITDIR)/$${u##*/}; \
	done; \
	[ ! -f $(COMPLETION) ] || put 0644 $(COMPLETION) $(COMPDIR)/lbctl; \
	for c in $(SAMPLES); do \
	  mode=0644; case $$c in *.sh) mode=0755;; esac; \
	  put $$mode $$c $(DOCDIR)/examples/$${c##*/}; \
	  t=$(ETCDIR)/$${c##*/}; \
	  if [ ! -e "$$D$$t" ]; then \
	    install -D -m $$mode $$c "$$D$$t"; echo "install $$D$$t"; \
	    echo "C $$(sha256sum <$$c | cut -d' ' -f1) $$t" >>"$$new"; \
	  else \
	    mine=""; [ ! -f "$$old" ] || \
	      mine=$$(awk -v t="$$t" '$$1 == "C" && $$3 == t' "$$old"); \
	    if [ -n "$$mine" ]; then echo "$$mine" >>"$$new"; fi; \
	    echo "keep $$D$$t (exists, not overwritten)"; \
	  fi; \
	done; \
	install -D -m 0644 "$$new" "$$D$(MANIFEST)"

uninstall:
	@D='$(DESTDIR)'; m="$$D$(MANIFEST)"; \
	if [ -f "$$m" ]; then list=$$(cat "$$m"); else \
	  echo "uninstall: no $$m, removing the usual files"; \
	  list=$$(for f in $(INST_FILES); do echo "F $$f"; done); \
	fi; \
	echo "$$list" | while read k a b; do \
	  case "$$k" in \
	  F) if [ -e "$$D$$a" ] || [ -L "$$D$$a" ]; then \
	       rm -f "$$D$$a" && echo "remove $$D$$a"; fi ;; \
	  C) [ -f "$$D$$b" ] || continue; \
	     if [ "$$(sha256sum <"$$D$$b" | cut -d' ' -f1)" = "$$a" ]; then \
	       rm -f "$$D$$b" && echo "remove $$D$$b"; \
	     else echo "keep $$D$$b (changed since install)"; fi ;; \
	  esac; \
	done; \
	rm -f "$$m"; \
	rmdir "$$D$(DOCDIR)/examples" "$$D$(DOCDIR)" "$$D$(ETCDIR)" 2>/dev/null; \
	true

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
