#!/bin/sh
# Builds the module in /src against DNSMON_KDIR and strips its debug info.
# Inputs (environment): DNSMON_KDIR, DNSMON_MODULE (file name without .ko),
# DNSMON_MAKE_JOBS (make -j; the module's files compile in parallel, with
# the same result whatever the number).
set -eu
cd /src
make -j"${DNSMON_MAKE_JOBS:-1}" -C "$DNSMON_KDIR" M=/src W=1 modules
strip --strip-debug "/src/$DNSMON_MODULE.ko"
ls -l "/src/$DNSMON_MODULE.ko"
