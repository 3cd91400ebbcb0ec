#!/usr/bin/env bash
# Stand-in base images for building deploy/Dockerfile on a machine that cannot pull
# python:3.11-slim from Docker Hub (the image test, `make image-test`):
#
#   RUNTIME_TAG  Debian bookworm's own python3 (3.11, as in python:3.11-slim), bootstrapped from
#                the Debian mirror this machine's apt uses and imported into Docker. Both stages of
#                the Dockerfile start from it (BASE_IMAGE).
#   BUILD_TAG    RUNTIME_TAG plus this machine's CA bundle and pip index, so that pip inside the
#                build reaches the package index as pip on the host does. Only the build stage
#                starts from it (BUILD_IMAGE): nothing of it reaches the runtime stage.
#
# An image that already exists is kept (bootstrapping takes about a minute).
# Usage: scripts/image/build-base.sh RUNTIME_TAG BUILD_TAG      (as root: debootstrap needs it)
set -euo pipefail

runtime_tag=$1
build_tag=$2
suite=bookworm
python=${PYTHON:-python3}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The Debian archive (not -security or -updates) that apt on this machine fetches from.
debian_mirror() {
    apt-get indextargets --format '$(ORIGIN) $(RELEASE) $(REPO_URI)' 'Identifier: Packages' \
        | awk '$1 == "Debian" && $2 !~ /-/ { print $3; exit }'
}

# One of pip's settings on this machine (environment first, then its configuration files).
pip_setting() {
    "$python" -m pip config list 2>/dev/null | sed -n "s/^\(:env:\|global\)\.$1='\(.*\)'\$/\2/p" | head -n 1
}

if ! docker image inspect "$runtime_tag" >/dev/null 2>&1; then
    mirror=$(debian_mirror)
    mirror=${mirror:-http://deb.debian.org/debian/}
    echo "Bootstrapping Debian $suite with python3 from $mirror into $runtime_tag"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$suite" "$scratch/root" "$mirror" >"$scratch/debootstrap.log" 2>&1 \
        || { tail -n 30 "$scratch/debootstrap.log"; exit 1; }
    # What python:3.11-slim leaves out too: downloaded packages, package lists, documentation.
    rm -rf "$scratch"/root/var/cache/apt/archives/*.deb "$scratch"/root/var/lib/apt/lists/* \
        "$scratch"/root/usr/share/doc/* "$scratch"/root/usr/share/man/* \
        "$scratch"/root/usr/share/info/* "$scratch"/root/usr/share/locale/*
    tar -C "$scratch/root" -c . | docker import --change 'ENV LANG=C.UTF-8' - "$runtime_tag" >/dev/null
fi

if ! docker image inspect "$build_tag" >/dev/null 2>&1; then
    cert=$(pip_setting cert)
    cp "${cert:-/etc/ssl/certs/ca-certificates.crt}" "$scratch/host-ca.crt"
    {
        echo "[global]"
        echo "cert = /etc/pip-host-ca.crt"
        # A file:// index or find-links is a directory of this machine, which the build cannot see.
        index_url=$(pip_setting index-url)
        case "$index_url" in http*) echo "index-url = $index_url" ;; esac
        extra=$(for url in $(pip_setting extra-index-url); do
            case "$url" in http*) printf ' %s' "$url" ;; esac
        done)
        [ -z "$extra" ] || echo "extra-index-url =$extra"
    } >"$scratch/pip.conf"
    printf '%s\n' "FROM $runtime_tag" \
        "COPY host-ca.crt /etc/pip-host-ca.crt" \
        "COPY pip.conf /etc/pip.conf" >"$scratch/Dockerfile"
    docker build -q -t "$build_tag" "$scratch" >/dev/null
fi
