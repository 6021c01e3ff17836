#!/bin/sh
# Installs one kernel's headers into a Debian-family builder image.
# Inputs (environment): DNSMON_METHOD (apt, apt-extract, urls), DNSMON_PKGS,
# DNSMON_URLS (lines "URL sha256:HEX"), DNSMON_TOOLCHAIN, DNSMON_SOURCES (sources.list lines),
# DNSMON_REPLACE (1: drop the image's sources), DNSMON_KDIR (must exist after).
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
apt-get -qq update
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
apt-extract)
	# Walk the dependencies of the header packages: linux-headers-*,
	# linux-kbuild-* and linux-base-RELEASE are unpacked, linux-image-* and
	# linux-base are skipped, everything else (compiler, pahole, libelf) is
	# installed with apt.
	queue=$DNSMON_PKGS extract= install=
	while [ -n "$queue" ]; do
		# shellcheck disable=SC2086
		set -- $queue
		p=$1
		shift
		queue="$*"
		case " $extract $install " in *" $p "*) continue ;; esac
		case $p in
		linux-headers-[0-9]* | linux-kbuild-[0-9]* | linux-base-[0-9]*)
			if ! apt-cache show "$p" >/dev/null 2>&1; then
				echo "dnsmon: package $p is not in the configured sources" >&2
				exit 100
			fi
			extract="$extract $p"
			deps=$(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
				--no-replaces --no-enhances "$p" | sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: //p' | tr -d '<>')
			queue="$queue $deps"
			;;
		linux-image-* | linux-base) ;;
		*) install="$install $p" ;;
		esac
	done
	echo "dnsmon: unpacking:$extract"
	echo "dnsmon: installing:$install"
	# shellcheck disable=SC2086
	[ -z "$install" ] || apt-get -q install $install
	rm -rf /tmp/dnsmon-dl /tmp/dnsmon-stage
	mkdir -p /tmp/dnsmon-dl /tmp/dnsmon-stage
	# shellcheck disable=SC2086
	(cd /tmp/dnsmon-dl && apt-get -q download $extract)
	for d in /tmp/dnsmon-dl/*.deb; do dpkg-deb -x "$d" /tmp/dnsmon-stage; done
	# Never unpack into / of a merged-/usr image: that replaces the /lib
	# symlink. Copy each top-level directory to where it really lives.
	for top in /tmp/dnsmon-stage/*; do
		name=${top##*/}
		dest=/$name
		if [ -L "/$name" ]; then dest=/usr/$name; fi
		mkdir -p "$dest"
		cp -a "$top/." "$dest/"
	done
	rm -rf /tmp/dnsmon-dl /tmp/dnsmon-stage
	;;
*)
	echo "dnsmon: unknown headers method $DNSMON_METHOD" >&2
	exit 2
	;;
esac
apt-get clean
rm -rf /var/lib/apt/lists/*
test -f "$DNSMON_KDIR/Makefile" || { echo "dnsmon: no headers in $DNSMON_KDIR" >&2; exit 1; }
echo "dnsmon: headers ready in $DNSMON_KDIR"
