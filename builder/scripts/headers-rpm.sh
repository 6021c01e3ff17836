#!/bin/sh
# Installs one kernel's headers into an RPM-family builder image.
# Inputs (environment): DNSMON_METHOD (yum, dnf, urls), DNSMON_PKGS,
# DNSMON_URLS (lines "URL sha256:HEX"), DNSMON_TOOLCHAIN, DNSMON_REPOS (lines "ID BASEURL"),
# DNSMON_REPLACE (1: drop the image's repositories), DNSMON_KDIR.
set -eu
pm=yum
if command -v dnf >/dev/null 2>&1; then pm=dnf; fi
if [ "$DNSMON_METHOD" = yum ] || [ "$DNSMON_METHOD" = dnf ]; then pm=$DNSMON_METHOD; fi
if [ "${DNSMON_REPLACE:-}" = 1 ]; then
	mkdir -p /etc/yum.repos.d.orig
	mv /etc/yum.repos.d/*.repo /etc/yum.repos.d.orig/ 2>/dev/null || true
fi
if [ -n "${DNSMON_REPOS:-}" ]; then
	printf '%s\n' "$DNSMON_REPOS" | while read -r id url; do
		[ -n "$id" ] || continue
		printf '[%s]\nname=%s\nbaseurl=%s\nenabled=1\ngpgcheck=0\n' "$id" "$id" "$url" >"/etc/yum.repos.d/dnsmon-$id.repo"
	done
fi
# shellcheck disable=SC2086
[ -z "${DNSMON_TOOLCHAIN:-}" ] || $pm -y install $DNSMON_TOOLCHAIN
case $DNSMON_METHOD in
yum | dnf)
	# shellcheck disable=SC2086
	$pm -y install $DNSMON_PKGS
	;;
urls)
	# Lines "URL sha256:HEX": nothing is installed that does not match.
	mkdir -p /tmp/dnsmon-rpms
	n=0
	while read -r u sum; do
		[ -n "$u" ] || continue
		n=$((n + 1))
		curl -fsSL -o "/tmp/dnsmon-rpms/$n.rpm" "$u"
		echo "${sum#sha256:}  /tmp/dnsmon-rpms/$n.rpm" | sha256sum -c --quiet - ||
			{ echo "dnsmon: $u does not match its sha256 in kernels.yaml" >&2; exit 1; }
	done <<EOF
$DNSMON_URLS
EOF
	$pm -y install /tmp/dnsmon-rpms/*.rpm
	rm -rf /tmp/dnsmon-rpms
	;;
*)
	echo "dnsmon: unknown headers method $DNSMON_METHOD" >&2
	exit 2
	;;
esac
$pm clean all
test -f "$DNSMON_KDIR/Makefile" || { echo "dnsmon: no headers in $DNSMON_KDIR" >&2; exit 1; }
echo "dnsmon: headers ready in $DNSMON_KDIR"
