#!/usr/bin/env bash
# t_install.sh - `make install` and `make uninstall` into a temporary
# DESTDIR, and the installed lbctl bash completion.
#
# Checks: binaries, man pages, units (with /usr/local rewritten to
# PREFIX), samples, completion and manifest are where they belong; every
# file written is in the manifest; an operator's /etc/lb/lbd.conf is never
# overwritten nor removed; a sample (etc/*.conf, etc/*.sh) that install
# put in /etc/lb is removed by uninstall unless it was edited since;
# uninstall leaves no file of ours.
# The completion completes commands, completes POOL/SERVER from a running
# lbd, and prints nothing when no lbd runs.
#
# make runs with `-o all`: the test installs what `make` built into
# LB_BUILD and never rebuilds it.  Exit 77 when lbd is not built.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${LB_BUILD:-$top/build}
if [ ! -x "$build/lbd" ]; then
	echo "SKIP: $build/lbd not built"
	exit 77
fi
tmp=$(mktemp -d)
lbd_pid=""
cleanup() {
	if [ -n "$lbd_pid" ]; then
		kill -TERM "$lbd_pid" 2>/dev/null
		wait "$lbd_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
ok() { echo "ok   $*"; }

PREFIX=/usr
# mk DESTDIR TARGET: make install or uninstall, output kept in $tmp/make.log.
# The environment of an outer make (make check, make asan) is not ours.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DESTDIR -u PREFIX \
	    make -C "$top" --no-print-directory -o all BUILD="$build" \
	    PREFIX="$PREFIX" DESTDIR="$1" "$2" >"$tmp/make.log" 2>&1 || {
		bad "make $2 DESTDIR=$1 failed:"
		sed 's/^/    /' "$tmp/make.log"
		return 1
	}
}
# has FILE MODE: FILE exists in the tree with permission bits MODE.
has() {
	local m
	if [ ! -f "$1" ]; then
		bad "missing ${1#"$D"}"
		return 1
	fi
	m=$(stat -c %a "$1")
	[ "$m" = "$2" ] || bad "${1#"$D"}: mode $m, want $2"
}

# --- 1. install over an operator's config ------------------------------
D=$tmp/dest
mkdir -p "$D/etc/lb"
printf '# the operator'"'"'s own lbd.conf\n' >"$D/etc/lb/lbd.conf"
cp "$D/etc/lb/lbd.conf" "$tmp/operator.conf"
mk "$D" install || exit 1

n0=$fail
has "$D$PREFIX/sbin/lbd" 755
[ ! -x "$build/lb-failoverd" ] || has "$D$PREFIX/sbin/lb-failoverd" 755
[ ! -x "$build/lbctl" ] || has "$D$PREFIX/bin/lbctl" 755
for p in "$top"/lb/*.[58] "$top"/failover/*.[58]; do
	[ -f "$p" ] || continue
	has "$D$PREFIX/share/man/man${p##*.}/${p##*/}" 644
done
for c in "$top"/etc/*.conf "$top"/etc/*.sh; do
	[ -f "$c" ] || continue
	mode=644
	case $c in *.sh) mode=755 ;; esac
	has "$D$PREFIX/share/doc/lb/examples/${c##*/}" $mode
	cmp -s "$c" "$D$PREFIX/share/doc/lb/examples/${c##*/}" ||
	    bad "examples/${c##*/} differs from etc/${c##*/}"
done
has "$D$PREFIX/share/bash-completion/completions/lbctl" 644
has "$D$PREFIX/share/doc/lb/MANIFEST" 644
[ "$fail" -eq "$n0" ] && ok "install: binaries, pages, examples, completion"

# Units: present, Exec paths rewritten to PREFIX and pointing at files
# that were installed.
n0=$fail
nunits=0
for u in "$top"/systemd/*.service; do
	[ -f "$u" ] || continue
	nunits=$((nunits + 1))
	i=$D$PREFIX/lib/systemd/system/${u##*/}
	has "$i" 644 || continue
	if grep -E '^Exec[A-Za-z]*=' "$i" | grep -q /usr/local/; then
		bad "${u##*/}: /usr/local left in: $(grep -E '^Exec' "$i" |
		    grep /usr/local/ | head -n 1)"
	fi
	# Each Exec program under PREFIX must be a file install put there.
	for prog in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$i"); do
		case "$prog" in
		"$PREFIX"/*) [ -x "$D$prog" ] ||
		    bad "${u##*/}: runs $prog, which was not installed" ;;
		esac
	done
	# Apart from Exec lines, the unit is the source unchanged.
	diff <(grep -v '^Exec' "$u") <(grep -v '^Exec' "$i") >/dev/null ||
	    bad "${u##*/}: changed beyond its Exec lines"
done
[ "$nunits" -ge 1 ] || bad "no systemd/*.service in the tree"
[ "$fail" -eq "$n0" ] &&
    ok "install: $nunits unit(s), Exec paths under $PREFIX"

# The operator's lbd.conf is untouched; other samples went to /etc/lb.
n0=$fail
cmp -s "$tmp/operator.conf" "$D/etc/lb/lbd.conf" ||
    bad "install overwrote the operator's /etc/lb/lbd.conf"
for c in "$top"/etc/*.conf "$top"/etc/*.sh; do
	[ -f "$c" ] || continue
	[ "${c##*/}" = lbd.conf ] && continue
	cmp -s "$c" "$D/etc/lb/${c##*/}" || bad "/etc/lb/${c##*/} not installed"
done
grep -q '^C .* /etc/lb/lbd.conf$' "$D$PREFIX/share/doc/lb/MANIFEST" &&
    bad "MANIFEST claims the operator's /etc/lb/lbd.conf"
[ "$fail" -eq "$n0" ] && ok "install: operator's /etc/lb/lbd.conf kept"

# Every file in DESTDIR is in the manifest (or is the operator's), and
# every manifest entry exists.
n0=$fail
man=$D$PREFIX/share/doc/lb/MANIFEST
awk '$1 == "F" { print $2 } $1 == "C" { print $3 }' "$man" | sort >"$tmp/m"
(cd "$D" && find . -type f | sed 's/^\.//' | sort) |
    grep -vxF -e /etc/lb/lbd.conf -e "$PREFIX/share/doc/lb/MANIFEST" \
    >"$tmp/f"
if ! diff "$tmp/m" "$tmp/f" >"$tmp/d"; then
	bad "files and MANIFEST differ (< manifest only, > file only):"
	sed 's/^/    /' "$tmp/d"
fi
[ "$fail" -eq "$n0" ] && ok "install: MANIFEST lists exactly the files"

# Installing again changes nothing and keeps the operator's file.
cp "$man" "$tmp/man1"
mk "$D" install || exit 1
if cmp -s "$man" "$tmp/man1" && cmp -s "$tmp/operator.conf" \
    "$D/etc/lb/lbd.conf"; then
	ok "install twice: same manifest, operator's file kept"
else
	bad "install twice: manifest or operator's file changed"
fi

# --- 2. bash completion, from the installed tree ------------------------
comp=$D$PREFIX/share/bash-completion/completions/lbctl
lbctl=$D$PREFIX/bin/lbctl
# complete WORDS...: runs the completion as bash would; COMPREPLY on
# stdout, one per line, and anything the completion printed on stderr
# in $tmp/comp.err.
complete_words() {
	env PATH="$D$PREFIX/bin:$PATH" bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_lbctl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@" 2>"$tmp/comp.err"
}
if [ ! -x "$lbctl" ]; then
	echo "skip completion: lbctl not built"
else
	got=$(complete_words lbctl d | sort | tr '\n' ' ')
	if [ "$got" = "disable drain " ]; then
		ok "completion: 'lbctl d' -> $got"
	else
		bad "completion: 'lbctl d' gave '$got', want 'disable drain'"
	fi
	got=$(LBCTL_SOCKET=$tmp/none.sock complete_words lbctl enable "")
	if [ -z "$got" ] && [ ! -s "$tmp/comp.err" ]; then
		ok "completion: no lbd -> no names, no output"
	else
		bad "completion without lbd: '$got', stderr: $(cat "$tmp/comp.err")"
	fi

	# A real lbd with two pools on a free loopback port.
	sock=$tmp/lbd.sock
	for try in 1 2 3 4 5; do
		port=$((20000 + (RANDOM % 20000)))
		cat >"$tmp/lbd.conf" <<-CONF
		workers = 1;
		maxconn = 100;
		control_socket = "$sock";
		log = { connections = false; };
		pools = (
		  { name = "web"; servers = (
		      { name = "a"; address = "127.0.0.1:9"; },
		      { name = "b.2"; address = "127.0.0.1:10"; } ); },
		  { name = "db"; servers = (
		      { name = "pg"; address = "127.0.0.1:11"; } ); }
		);
		listeners = ( { name = "web"; bind = "127.0.0.1:$port";
		                pool = "web"; } );
		CONF
		"$build/lbd" -d -f "$tmp/lbd.conf" >"$tmp/lbd.log" 2>&1 &
		lbd_pid=$!
		for i in $(seq 1 100); do
			[ -S "$sock" ] && break
			kill -0 "$lbd_pid" 2>/dev/null || break
			sleep 0.05
		done
		[ -S "$sock" ] && break
		wait "$lbd_pid" 2>/dev/null
		lbd_pid=""
	done
	if [ -z "$lbd_pid" ]; then
		bad "completion: could not start lbd:"
		sed 's/^/    /' "$tmp/lbd.log"
	else
		export LBCTL_SOCKET=$sock
		got=$(complete_words lbctl enable "" | sort | tr '\n' ' ')
		want="db/pg web/a web/b.2 "
		[ "$got" = "$want" ] && ok "completion: enable -> $got" ||
		    bad "completion: 'lbctl enable' gave '$got', want '$want'"
		got=$(complete_words lbctl drain --wait 5 w | sort | tr '\n' ' ')
		want="web/a web/b.2 "
		[ "$got" = "$want" ] && ok "completion: drain --wait 5 w -> $got" ||
		    bad "completion: 'drain --wait 5 w' gave '$got', want '$want'"
		got=$(complete_words lbctl servers "" | sort | tr '\n' ' ')
		[ "$got" = "db web " ] && ok "completion: servers -> $got" ||
		    bad "completion: 'lbctl servers' gave '$got', want 'db web'"
		got=$(complete_words lbctl sticky show "" | sort | tr '\n' ' ')
		[ "$got" = "db web " ] && ok "completion: sticky show -> $got" ||
		    bad "completion: 'lbctl sticky show' gave '$got', want 'db web'"
		unset LBCTL_SOCKET
		got=$(complete_words lbctl -s "$sock" weight "" | wc -l)
		[ "$got" -eq 3 ] && ok "completion: -s SOCKET is used" ||
		    bad "completion: with -s SOCKET gave $got names, want 3"
		[ -s "$tmp/comp.err" ] &&
		    bad "completion wrote to stderr: $(cat "$tmp/comp.err")"
		kill -TERM "$lbd_pid"
		wait "$lbd_pid" 2>/dev/null
		lbd_pid=""
	fi
fi

# --- 3. uninstall ---------------------------------------------------------
mk "$D" uninstall || exit 1
left=$(cd "$D" && find . -type f | sed 's/^\.//')
if [ "$left" = /etc/lb/lbd.conf ] &&
    cmp -s "$tmp/operator.conf" "$D/etc/lb/lbd.conf"; then
	ok "uninstall: only the operator's /etc/lb/lbd.conf is left"
else
	bad "uninstall left: $(echo $left)"
fi

# A fresh DESTDIR: the sample goes to /etc/lb, and uninstall removes it.
D=$tmp/fresh
mk "$D" install || exit 1
if cmp -s "$top/etc/lbd.conf" "$D/etc/lb/lbd.conf"; then
	ok "install: sample copied to an empty /etc/lb"
else
	bad "install: /etc/lb/lbd.conf missing or not the sample"
fi
mk "$D" uninstall || exit 1
left=$(cd "$D" && find . -type f)
if [ -z "$left" ]; then
	ok "uninstall: no file left"
else
	bad "uninstall left: $(echo $left)"
fi
[ ! -d "$D$PREFIX/share/doc/lb" ] && [ ! -d "$D/etc/lb" ] ||
    bad "uninstall left share/doc/lb or /etc/lb"

# An installed sample edited since is kept.
D=$tmp/edited
mk "$D" install || exit 1
echo "workers = 1;" >>"$D/etc/lb/lbd.conf"
mk "$D" uninstall || exit 1
left=$(cd "$D" && find . -type f | sed 's/^\.//')
if [ "$left" = /etc/lb/lbd.conf ] && grep -q 'kept\|keep' "$tmp/make.log"
then
	ok "uninstall: an edited /etc/lb/lbd.conf is kept, and said so"
else
	bad "uninstall with an edited config left: $(echo $left)"
fi

if [ "$fail" -gt 0 ]; then
	echo "t_install: $fail problem(s)"
	exit 1
fi
echo "t_install: all checks passed"
