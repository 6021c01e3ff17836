#!/bin/sh
# gen.sh: writes the RPM repository fixtures of this folder (see ../README.md).
# primary.xml files follow createrepo_c's format, reduced to the elements the
# parser reads plus a few it must skip; compressed files are named
# CHECKSUM-primary.xml.EXT as createrepo_c names them.
set -eu
cd "$(dirname "$0")"

pkg() { # name arch epoch ver rel
	cat <<EOF
<package type="rpm">
  <name>$1</name>
  <arch>$2</arch>
  <version epoch="$3" ver="$4" rel="$5"/>
  <checksum type="sha256" pkgid="YES">0000000000000000000000000000000000000000000000000000000000000000</checksum>
  <summary>$1</summary>
  <description>$1 $4-$5</description>
  <packager>Fixture</packager>
  <url>https://www.kernel.org/</url>
  <time file="1700000000" build="1700000000"/>
  <size package="20000000" installed="70000000" archive="70000000"/>
  <location href="Packages/${1%"${1#?}"}/$1-$4-$5.$2.rpm"/>
  <format>
    <rpm:license>GPLv2</rpm:license>
    <rpm:provides>
      <rpm:entry name="$1" flags="EQ" epoch="$3" ver="$4" rel="$5"/>
    </rpm:provides>
    <file>/usr/src/kernels/$4-$5.$2/Makefile</file>
  </format>
</package>
EOF
}

primary() { # repo-dir compressor ext count, then "name arch epoch ver rel" lines on stdin
	dir=$1 comp=$2 ext=$3
	mkdir -p "$dir/repodata"
	rm -f "$dir"/repodata/*
	body=$(while read -r n a e v r; do pkg "$n" "$a" "$e" "$v" "$r"; done)
	count=$(printf '%s\n' "$body" | grep -c '<package ')
	xml=$(printf '<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%s">\n%s\n</metadata>\n' "$count" "$body")
	printf '%s' "$xml" | $comp >"$dir/repodata/tmp"
	sum=$(sha256sum "$dir/repodata/tmp" | cut -d' ' -f1)
	osum=$(printf '%s' "$xml" | sha256sum | cut -d' ' -f1)
	size=$(wc -c <"$dir/repodata/tmp")
	mv "$dir/repodata/tmp" "$dir/repodata/$sum-primary.xml.$ext"
	cat >"$dir/repodata/repomd.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <data type="filelists">
    <checksum type="sha256">1111111111111111111111111111111111111111111111111111111111111111</checksum>
    <location href="repodata/1111111111111111111111111111111111111111111111111111111111111111-filelists.xml.$ext"/>
    <size>1</size>
  </data>
  <data type="primary">
    <checksum type="sha256">$sum</checksum>
    <open-checksum type="sha256">$osum</open-checksum>
    <location href="repodata/$sum-primary.xml.$ext"/>
    <timestamp>1700000000</timestamp>
    <size>$size</size>
  </data>
</repomd>
EOF
}

# Rocky 9 AppStream (gzip, the usual compression of EL8/EL9 repositories).
primary dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os "gzip -9 -n" gz <<EOF
kernel-devel x86_64 0 5.14.0 427.13.1.el9_4
kernel-devel x86_64 0 5.14.0 503.14.1.el9_5
kernel-devel x86_64 0 5.14.0 503.15.1.el9_5
kernel-devel x86_64 0 5.14.0 503.21.1.el9_5
kernel-devel-matched x86_64 0 5.14.0 503.21.1.el9_5
kernel-rt-devel x86_64 0 5.14.0 503.21.1.el9_5
kernel-headers x86_64 0 5.14.0 503.21.1.el9_5
kernel-doc noarch 0 5.14.0 503.21.1.el9_5
bash x86_64 0 5.1.8 9.el9
EOF

# AlmaLinux 9 AppStream (zstd, as EL10-era createrepo_c writes by default).
primary repo.almalinux.org/almalinux/9/AppStream/x86_64/os "zstd -q -19 -c" zst <<EOF
kernel-devel x86_64 0 5.14.0 427.42.1.el9_4
kernel-devel x86_64 0 5.14.0 503.11.1.el9_5
kernel-devel x86_64 0 5.14.0 503.22.1.el9_5
EOF

# CentOS 7 vault: os (xz) and updates (gzip); the group reads its yum sources.
primary vault.centos.org/7.9.2009/os/x86_64 "xz -9 -c" xz <<EOF
kernel-devel x86_64 0 3.10.0 1160.el7
kernel x86_64 0 3.10.0 1160.el7
EOF
primary vault.centos.org/7.9.2009/updates/x86_64 "gzip -9 -n" gz <<EOF
kernel-devel x86_64 0 3.10.0 1160.118.1.el7
kernel-devel x86_64 0 3.10.0 1160.119.1.el7
kernel-devel x86_64 0 3.10.0 1160.120.1.el7
EOF

# Amazon Linux 2023: a mirror list naming the repository.
mkdir -p cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64
echo "https://cdn.amazonlinux.com/al2023/core/guids/0123abcd/x86_64/" >cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list
primary cdn.amazonlinux.com/al2023/core/guids/0123abcd/x86_64 "gzip -9 -n" gz <<EOF
kernel-devel x86_64 0 6.1.112 122.189.amzn2023
kernel-devel x86_64 0 6.1.115 126.197.amzn2023
kernel-devel x86_64 0 6.1.119 129.201.amzn2023
kernel6.12-devel x86_64 0 6.12.20 28.89.amzn2023
EOF
