#!/bin/sh
# Builds the module in /src against DNSMON_KDIR and strips its debug info.
# Inputs (environment): DNSMON_KDIR, DNSMON_MODULE (file name without .ko).
set -eu
cd /src
make -C "$DNSMON_KDIR" M=/src W=1 modules
strip --strip-debug "/src/$DNSMON_MODULE.ko"
ls -l "/src/$DNSMON_MODULE.ko"
