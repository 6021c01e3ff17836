#!/bin/sh
# Installs one kernel's headers into an RPM-family builder image.
# Inputs (environment): DNSMON_METHOD (yum, dnf, urls), DNSMON_PKGS,
# DNSMON_URLS (lines "URL sha256:HEX"), DNSMON_TOOLCHAIN,
# DNSMON_REPOS (lines "ID BASEURL GPGKEY"), DNSMON_REPLACE (1: drop the
# image's repositories), DNSMON_KDIR.
# DNSMON_REPODIR (default /etc/yum.repos.d) and DNSMON_STEP=repos (stop once
# the repositories are written) let a test write them outside an image.
set -eu
repodir=${DNSMON_REPODIR:-/etc/yum.repos.d}
pm=yum
if command -v dnf >/dev/null 2>&1; then pm=dnf; fi
if [ "$DNSMON_METHOD" = yum ] || [ "$DNSMON_METHOD" = dnf ]; then pm=$DNSMON_METHOD; fi
if [ "${DNSMON_REPLACE:-}" = 1 ]; then
	mkdir -p "$repodir.orig"
	mv "$repodir"/*.repo "$repodir.orig/" 2>/dev/null || true
fi
# Every package of these repositories must be signed with the source's key
# (gpgcheck=1). Their metadata is not checked (repo_gpgcheck=0): the CentOS
# vault does not sign it, and what is installed is checked package by package.
while read -r id url key; do
	[ -n "$id" ] || continue
	case $key in
	https://*) ;;
	file:///*)
		[ -s "${key#file://}" ] || {
			echo "dnsmon: yum source $id: its gpgkey ${key#file://} is not in the image: set gpgkey: for the source in kernels.yaml" >&2
			exit 1
		}
		;;
	*)
		echo "dnsmon: yum source $id has no usable gpgkey (\"$key\"): the farm installs only signed packages" >&2
		exit 1
		;;
	esac
	printf '[%s]\nname=%s\nbaseurl=%s\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=0\ngpgkey=%s\n' \
		"$id" "$id" "$url" "$key" >"$repodir/dnsmon-$id.repo"
done <<EOF
${DNSMON_REPOS:-}
EOF
[ "${DNSMON_STEP:-}" != repos ] || exit 0
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
