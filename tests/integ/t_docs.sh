#!/usr/bin/env bash
# t_docs.sh - the man pages: lint, and no drift from the code.
#
# Drift (always checked, needs no tool but perl, which Debian always has):
#   - every key in a table that lbd's config loader checks keys against
#     (the arrays passed to conf_check_keys() in lb/*.c) has an
#     ".It Cm KEY" entry in lb/lbd.conf.5, and every balancing algorithm
#     name (common/shm.c) one too;
#   - every key of lb-failoverd's table (fo_keys in failover/focfg.c) has
#     an ".It Cm KEY" entry in failover/lb-failoverd.conf.5;
#   - every command of lbctl's table (lb/lbctl.c) and of lbd's control
#     table (lb/ctl_cmd.c) has an ".It Ic CMD" entry in lb/lbctl.8, and is
#     in the completion's fallback list;
#   - every getopt letter of lbd and lb-failoverd is a ".Fl X" in its page;
#   - every config in an EXAMPLES block of the two .conf.5 pages is
#     accepted by `lbd -n` / `lb-failoverd -n` (when they are built).
# An extraction that finds too little fails: a silent, empty check would
# let the docs drift.
#
# Lint: `mandoc -T lint -W warning` must print nothing for each page (style
# notes, such as a reference to a page that is not installed, are fine).
# mandoc is installed with apt-get when missing; when that is impossible
# the lint part is skipped (exit 77) unless drift already failed.
set -u -o pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${LB_BUILD:-$top/build}
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

bad() { echo "FAIL $*"; fail=$((fail + 1)); }
ok() { echo "ok   $*"; }

PAGES="lb/lbd.8 lb/lbd.conf.5 lb/lbctl.8 failover/lb-failoverd.8
failover/lb-failoverd.conf.5"

# --- the pages exist and have the sections every page needs -------------
for p in $PAGES; do
	if [ ! -f "$p" ]; then
		bad "$p: missing"
		continue
	fi
	for sh in NAME SYNOPSIS DESCRIPTION EXAMPLES "SEE ALSO"; do
		case "$p:$sh" in *.5:SYNOPSIS) continue ;; esac
		grep -q "^\.Sh $sh\$" "$p" || bad "$p: no '.Sh $sh' section"
	done
done

# entries FILE MACRO: the first word after ".It MACRO" on each line.
entries() {
	sed -n "s/^\.It $2 \([^ ]*\).*/\1/p" "$1" | sort -u
}

# need WHAT MIN LIST: fail when LIST has fewer than MIN words.
need() {
	local n
	n=$(wc -w <<<"$3")
	if [ "$n" -lt "$2" ]; then
		bad "$1: found only $n names in the code (want >= $2):" \
		    "the extraction in tests/integ/t_docs.sh needs updating"
		return 1
	fi
	return 0
}

# check_in PAGE MACRO WHAT NAMES: every name has an entry in PAGE.
check_in() {
	local page=$1 macro=$2 what=$3 have missing="" n=0 k
	have=$(entries "$page" "$macro")
	for k in $4; do
		n=$((n + 1))
		grep -qxF -- "$k" <<<"$have" || missing="$missing $k"
	done
	if [ -n "$missing" ]; then
		bad "$page: $what not documented (no '.It $macro NAME'):$missing"
	else
		ok "$page: all $n $what documented"
	fi
}

# --- lbd.conf: keys of every table given to conf_check_keys() ------------
# The tables are found by name from the calls, then read from their
# definitions, so a new group (conf_health.c ...) is picked up by itself.
lbd_keys=$(perl -0777 -e '
	my $src = join("", map { local @ARGV = ($_); <> } @ARGV);
	my %tab;
	$tab{$1} = 1 while $src =~ /conf_check_keys\s*\([^;]*?,\s*(\w+)\s*\)/g;
	for my $t (sort keys %tab) {
		if ($src =~ /\b\Q$t\E\s*\[\s*\]\s*=\s*\{(.*?)\}\s*;/s) {
			my $b = $1;
			print "$1\n" while $b =~ /"([^"]*)"/g;
		} else {
			print STDERR "table $t: definition not found\n";
			exit 1;
		}
	}' lb/*.c | sort -u) || bad "lb/*.c: could not read the key tables"
need "lbd config keys" 20 "$lbd_keys" &&
    check_in lb/lbd.conf.5 Cm "lbd.conf settings" "$lbd_keys"

algos=$(perl -0777 -ne 'print "$1\n" while
    /\[\s*BAL_[A-Z0-9_]+\s*\]\s*=\s*"([^"]+)"/g' common/shm.c | sort -u)
need "balancing algorithms" 3 "$algos" &&
    check_in lb/lbd.conf.5 Cm "algorithms" "$algos"

# --- lb-failoverd.conf: the fo_keys table ---------------------------------
fo_keys=$(perl -0777 -ne 'if (/\bfo_keys\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;/s) {
	my $b = $1; print "$1\n" while $b =~ /\{\s*"([^"]+)"/g }' \
    failover/*.c | sort -u)
need "lb-failoverd config keys" 10 "$fo_keys" &&
    check_in failover/lb-failoverd.conf.5 Cm "lb-failoverd.conf settings" \
    "$fo_keys"
grep -q '^\.Cm failover' failover/lb-failoverd.conf.5 ||
    bad "failover/lb-failoverd.conf.5: the 'failover' group is not named"

# --- lbctl commands: lbctl's table and lbd's -------------------------------
# cmd_table FILE TABLE: the first string of each { "name", ... } element.
cmd_table() {
	perl -0777 -e '
	local $/; my $t = shift; my $src = <>;
	if ($src =~ /\b\Q$t\E\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;/s) {
		my $b = $1; print "$1\n" while $b =~ /\{\s*"([^"]+)"/g }' \
	    "$2" "$1" | sort -u
}
for spec in lb/lbctl.c:lbctl_cmds lb/ctl_cmd.c:ctl_cmds; do
	f=${spec%%:*}
	[ -f "$f" ] || { echo "skip $f: not there"; continue; }
	cmds=$(cmd_table "$f" "${spec#*:}")
	need "$f commands" 10 "$cmds" || continue
	check_in lb/lbctl.8 Ic "$f commands" "$cmds"
	missing=""
	for c in $cmds; do
		grep -qw -- "$c" etc/bash-completion/lbctl ||
		    missing="$missing $c"
	done
	if [ -n "$missing" ]; then
		bad "etc/bash-completion/lbctl: not in the fallback list:$missing"
	else
		ok "etc/bash-completion/lbctl: knows every $f command"
	fi
done

# --- command-line options ---------------------------------------------------
# opts FILE: the letters of the getopt()/getopt_long() option string.
opts() {
	perl -ne 'if (/getopt(?:_long)?\s*\(\s*argc\s*,\s*argv\s*,\s*"([^"]+)"/) {
		(my $o = $1) =~ s/://g; print join("\n", split(//, $o)), "\n" }' "$1"
}
for spec in lb/main.c:lb/lbd.8 failover/main.c:failover/lb-failoverd.8; do
	src=${spec%%:*} page=${spec#*:}
	[ -f "$src" ] || { echo "skip $src: not there"; continue; }
	letters=$(opts "$src")
	need "$src options" 3 "$letters" || continue
	missing=""
	for l in $letters; do
		[ "$src:$l" = failover/main.c:h ] && continue	# usage only
		grep -qE "(^\.|[ ])Fl $l( |\$)" "$page" || missing="$missing -$l"
	done
	if [ -n "$missing" ]; then
		bad "$page: options of $src not documented:$missing"
	else
		ok "$page: every option of $src documented"
	fi
done
if [ -f failover/main.c ] && grep -q '"release-vips"' failover/main.c; then
	grep -q 'Fl -release-vips' failover/lb-failoverd.8 ||
	    bad "failover/lb-failoverd.8: --release-vips not documented"
fi

# --- the example configs are valid ----------------------------------------
# blocks PAGE: writes each .Bd -literal block of PAGE to $tmp/ex.N,
# with the roff escapes undone.
blocks() {
	rm -f "$tmp"/ex.*
	awk -v dir="$tmp" '
		/^\.Bd -literal/ { n++; inb = 1; next }
		/^\.Ed/ { inb = 0; next }
		inb { gsub(/\\&/, ""); gsub(/\\\\/, "\\"); gsub(/\\e/, "\\");
		      print > (dir "/ex." n) }' "$1"
}
if [ -x "$build/lbd" ]; then
	blocks lb/lbd.conf.5
	n=0
	for f in "$tmp"/ex.*; do
		grep -q '^pools = (' "$f" || continue
		n=$((n + 1))
		if out=$("$build/lbd" -n -f "$f" 2>&1); then
			ok "lb/lbd.conf.5: example ${f##*.} is valid"
		else
			bad "lb/lbd.conf.5: example ${f##*.} rejected: $out"
		fi
	done
	[ "$n" -ge 2 ] || bad "lb/lbd.conf.5: fewer than 2 full example configs"
else
	echo "skip lbd.conf.5 examples: $build/lbd not built"
fi
if [ -x "$build/lb-failoverd" ]; then
	(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' \
	    >"$tmp/key")
	blocks failover/lb-failoverd.conf.5
	n=0
	for f in "$tmp"/ex.*; do
		grep -q '^failover = {' "$f" || continue
		n=$((n + 1))
		sed -i "s|auth_key_file = \"[^\"]*\"|auth_key_file = \"$tmp/key\"|" \
		    "$f"
		if out=$("$build/lb-failoverd" -n -f "$f" 2>&1); then
			ok "failover/lb-failoverd.conf.5: example ${f##*.} is valid"
		else
			bad "failover/lb-failoverd.conf.5: example ${f##*.}" \
			    "rejected: $out"
		fi
	done
	[ "$n" -ge 1 ] ||
	    bad "failover/lb-failoverd.conf.5: no full example config"
else
	echo "skip lb-failoverd.conf.5 examples: $build/lb-failoverd not built"
fi

# --- mandoc lint -------------------------------------------------------------
have_mandoc() { command -v mandoc >/dev/null 2>&1; }
apt_mandoc() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends mandoc >/dev/null 2>&1
}
if ! have_mandoc && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null
then
	echo "installing mandoc (apt-get) for the man page lint"
	apt_mandoc || { apt-get update -qq >/dev/null 2>&1 && apt_mandoc; }
fi
if ! have_mandoc; then
	if [ "$fail" -gt 0 ]; then
		echo "t_docs: $fail problem(s); mandoc lint not run (no mandoc)"
		exit 1
	fi
	echo "SKIP: mandoc is not installed and could not be installed" \
	    "(apt-get install mandoc, as root); drift checks passed"
	exit 77
fi
for p in $PAGES; do
	[ -f "$p" ] || continue
	out=$(mandoc -T lint -W warning "$p" 2>&1 |
	    grep -E ': (WARNING|ERROR|UNSUPP|BADARG):')
	if [ -n "$out" ]; then
		bad "$p: mandoc lint:"
		sed 's/^/    /' <<<"$out"
	else
		ok "$p: mandoc lint clean"
	fi
done

if [ "$fail" -gt 0 ]; then
	echo "t_docs: $fail problem(s)"
	exit 1
fi
echo "t_docs: all checks passed"
