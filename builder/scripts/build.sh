#!/bin/sh
# Builds the module in /src against DNSMON_KDIR and strips its debug info.
# Inputs (environment): DNSMON_KDIR, DNSMON_MODULE (file name without .ko),
# DNSMON_MAKE_JOBS (make -j; the module's files compile in parallel, with
# the same result whatever the number), DNSMON_CC (the compiler command the
# kernel's .config names, when it names one: kbuild compares it word for
# word).
set -eu
cd /src
set --
if [ -n "${DNSMON_CC:-}" ]; then
	set -- CC="$DNSMON_CC"
fi
# W=1 runs the kernel's scripts/kernel-doc on each source. Some kernels ship
# a Perl one that does not compile (Ubuntu's 5.4.0-216 uses an undeclared
# $args): then only that check is left out, and the build says so.
doc="$DNSMON_KDIR/scripts/kernel-doc"
if [ -f "$doc" ] && head -n 1 "$doc" | grep -q perl && command -v perl >/dev/null &&
	! perl -c "$doc" >/dev/null 2>&1; then
	echo "dnsmon: $doc does not compile under perl: building without its W=1 kernel-doc check"
	set -- "$@" cmd_checkdoc=:
fi
make -j"${DNSMON_MAKE_JOBS:-1}" -C "$DNSMON_KDIR" M=/src W=1 "$@" modules
strip --strip-debug "/src/$DNSMON_MODULE.ko"
ls -l "/src/$DNSMON_MODULE.ko"
