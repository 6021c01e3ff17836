#!/bin/sh
# Builds the module in /src against DNSMON_KDIR and strips its debug info.
# Inputs (environment): DNSMON_KDIR, DNSMON_MODULE (file name without .ko),
# DNSMON_MAKE_JOBS (make -j; the module's files compile in parallel, with
# the same result whatever the number), DNSMON_CC (the compiler command the
# kernel's .config names, when it names one: kbuild compares it word for
# word), DNSMON_ARCH and DNSMON_CROSS_COMPILE (kbuild's ARCH and
# CROSS_COMPILE, when cross-compiling).
set -eu
cd /src
set --
if [ -n "${DNSMON_CC:-}" ]; then
	set -- CC="$DNSMON_CC"
elif [ -z "${DNSMON_CROSS_COMPILE:-}" ]; then
	# A headers image (apt, yum, dnf) gets no DNSMON_CC: it builds with the
	# command the kernel's .config names when the image has it, e.g.
	# Ubuntu's x86_64-linux-gnu-gcc-13 beside the gcc-13 its headers pull
	# in, since kbuild compares the two version lines word for word.
	kcc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*"$/\1/p' "$DNSMON_KDIR/.config" 2>/dev/null || true)
	case $kcc in
	*gcc*) if command -v "$kcc" >/dev/null 2>&1; then set -- CC="$kcc"; fi ;;
	esac
fi
cross=${DNSMON_CROSS_COMPILE:-}
if [ -n "$cross" ]; then
	set -- "$@" ARCH="$DNSMON_ARCH" CROSS_COMPILE="$cross"
	# kbuild warns when `$(CC) --version` differs from the kernel's
	# CONFIG_CC_VERSION_TEXT. A cross compiler's differs by its name
	# (aarch64-linux-gnu-gcc-12 for gcc-12) and by the revision of its own
	# Debian build: when it is the same GCC release, Debian's switch for
	# this check (DEBIAN_KERNEL_NO_CC_VERSION_CHECK) turns it off, and the
	# build says so; a different release still warns.
	# The release is what follows the packager's parenthesis:
	# "gcc-10 (Debian 10.2.1-6) 10.2.1 20210110" gives "10.2.1 20210110".
	kernel_cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$DNSMON_KDIR/.config")
	our_cc=$("${DNSMON_CC:-${cross}gcc}" --version | head -n 1)
	if [ -n "$kernel_cc" ] && [ "$kernel_cc" != "$our_cc" ] && [ "${kernel_cc##*) }" = "${our_cc##*) }" ]; then
		echo "dnsmon: cross-compiling with $our_cc for a kernel built by $kernel_cc: the same GCC ${our_cc##*) }"
		export DEBIAN_KERNEL_NO_CC_VERSION_CHECK=1
	fi
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
"${cross}strip" --strip-debug "/src/$DNSMON_MODULE.ko"
ls -l "/src/$DNSMON_MODULE.ko"
