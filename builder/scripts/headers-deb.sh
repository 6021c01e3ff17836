#!/bin/sh
# Installs one kernel's headers into a Debian-family builder image.
# Inputs (environment): DNSMON_METHOD (apt, urls, none), DNSMON_PKGS,
# DNSMON_URLS (lines "URL sha256:HEX"), DNSMON_TOOLCHAIN, DNSMON_SOURCES (sources.list lines),
# DNSMON_REPLACE (1: drop the image's sources), DNSMON_UPGRADE (1: upgrade
# from the image's sources first: an Ubuntu image's -updates and -security
# pockets), DNSMON_KDIR (must exist after).
set -eu
export DEBIAN_FRONTEND=noninteractive
# The mirrors serve frozen snapshots whose Release files are past Valid-Until.
printf '%s\n' 'Acquire::Check-Valid-Until "false";' 'Acquire::Check-Date "false";' \
	'APT::Install-Recommends "false";' 'APT::Get::Assume-Yes "true";' >/etc/apt/apt.conf.d/99dnsmon
if [ "${DNSMON_REPLACE:-}" = 1 ]; then
	rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*
fi
if [ -n "${DNSMON_SOURCES:-}" ]; then
	printf '%s\n' "$DNSMON_SOURCES" >/etc/apt/sources.list.d/dnsmon.list
fi
# installed PKG...: whether every package is installed.
installed() {
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || return 1
	done
}
# A toolchain image whose packages the base image already has (a kernel
# built by the suite's default gcc-N, which the base's gcc depends on)
# needs no package index: reading Ubuntu's takes tens of seconds.
# shellcheck disable=SC2086
if [ "$DNSMON_METHOD" = none ] && [ "${DNSMON_UPGRADE:-}" != 1 ] && installed $DNSMON_TOOLCHAIN; then
	echo "dnsmon: $DNSMON_TOOLCHAIN already installed"
	exit 0
fi
apt-get -qq update
[ "${DNSMON_UPGRADE:-}" != 1 ] || apt-get -q dist-upgrade
# shellcheck disable=SC2086
[ -z "${DNSMON_TOOLCHAIN:-}" ] || apt-get -q install $DNSMON_TOOLCHAIN

case $DNSMON_METHOD in
apt)
	# shellcheck disable=SC2086
	apt-get -q install $DNSMON_PKGS
	;;
urls)
	# Lines "URL sha256:HEX": nothing is installed that does not match.
	mkdir -p /tmp/dnsmon-debs
	n=0
	while read -r u sum; do
		[ -n "$u" ] || continue
		n=$((n + 1))
		/usr/lib/apt/apt-helper download-file "$u" "/tmp/dnsmon-debs/$n.deb"
		echo "${sum#sha256:}  /tmp/dnsmon-debs/$n.deb" | sha256sum -c --quiet - ||
			{ echo "dnsmon: $u does not match its sha256 in kernels.yaml" >&2; exit 1; }
	done <<EOF
$DNSMON_URLS
EOF
	apt-get -q install /tmp/dnsmon-debs/*.deb
	rm -rf /tmp/dnsmon-debs
	;;
none)
	# The toolchain alone: an image that adds a kernel's compiler to a base
	# image, for the header trees the farm unpacks itself.
	;;
*)
	echo "dnsmon: unknown headers method $DNSMON_METHOD" >&2
	exit 2
	;;
esac
apt-get clean
rm -rf /var/lib/apt/lists/*
[ -z "${DNSMON_KDIR:-}" ] && exit 0
test -f "$DNSMON_KDIR/Makefile" || { echo "dnsmon: no headers in $DNSMON_KDIR" >&2; exit 1; }
echo "dnsmon: headers ready in $DNSMON_KDIR"
