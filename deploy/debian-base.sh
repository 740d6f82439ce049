#!/usr/bin/env bash
# Makes a Python base image from Debian's packages, for building Rapport's image where
# Docker Hub is out of reach:
#
#     sudo deploy/debian-base.sh                 # -> image rapport-base:bookworm
#     docker build --build-arg BASE_IMAGE=rapport-base:bookworm -t rapport .
#
# debootstrap (Debian's package) lays a minimal bookworm with python3 and python3-venv into a
# folder, which is imported as an image. The root file system is kept as a tarball in
# $RAPPORT_BASE_CACHE (default /var/cache/rapport-base), so a second run, or a run after the
# image was removed, takes seconds. Needs root, debootstrap and a Debian mirror
# ($DEBIAN_MIRROR, default deb.debian.org).
#
# Behind a TLS-intercepting proxy, set RAPPORT_BASE_CA_BUNDLE to a PEM bundle that trusts
# it (e.g. the host's /etc/ssl/certs/ca-certificates.crt): it becomes the image's system
# bundle, and `docker build --build-arg PIP_CERT=/etc/ssl/certs/ca-certificates.crt` lets
# pip use it.
set -euo pipefail

tag="${1:-rapport-base:bookworm}"
cache="${RAPPORT_BASE_CACHE:-/var/cache/rapport-base}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite="${DEBIAN_SUITE:-bookworm}"
tarball="$cache/$suite-python3.tar"

if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "debian-base: $tag is there already"
    exit 0
fi
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { echo "debian-base: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 3; }
    root="$(mktemp -d "$cache/root.XXXXXX")"
    trap 'rm -rf "$root"' EXIT
    echo "debian-base: debootstrap $suite into $root (a few minutes, once)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "$suite" "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
    tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
fi
if [ -n "${RAPPORT_BASE_CA_BUNDLE:-}" ]; then
    sum="$(sha256sum "$RAPPORT_BASE_CA_BUNDLE" | cut -c1-12)"
    with_ca="$cache/$suite-python3-ca-$sum.tar"
    if [ ! -s "$with_ca" ]; then
        root="$(mktemp -d "$cache/root.XXXXXX")"
        trap 'rm -rf "$root"' EXIT
        tar -C "$root" --numeric-owner -xf "$tarball"
        cp "$RAPPORT_BASE_CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
        tar -C "$root" --numeric-owner -cf "$with_ca.tmp" .
        mv "$with_ca.tmp" "$with_ca"
    fi
    tarball="$with_ca"
fi
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    "$tarball" "$tag" >/dev/null
echo "debian-base: $tag imported from $tarball"
