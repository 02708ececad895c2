#!/usr/bin/env bash
# Set up everything Neuromutant needs on a Debian machine, then run it or its tests.
#
#   bash daemon/bootstrap.sh run     # set up, then run nmd in the foreground on targets/
#   bash daemon/bootstrap.sh test    # set up, then run the test suite (extra args go to pytest)
#   bash daemon/bootstrap.sh setup   # set up only
#
# Each step checks first and does nothing when already done, so a second run is fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
TORCH_VERSION="2.13.0"
DOCKER_WAIT_SECONDS="${NEUROMUTANT_DOCKER_WAIT:-60}"

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

debian_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v bwrap >/dev/null || missing+=(bubblewrap)
    command -v git >/dev/null || missing+=(git)
    command -v systemd-analyze >/dev/null || missing+=(systemd)
    command -v ip >/dev/null || missing+=(iproute2)  # the tests' loopback Ray cluster
    command -v nsenter >/dev/null || missing+=(util-linux)
    [ "${#missing[@]}" -eq 0 ] && return
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

docker_daemon() {
    docker info >/dev/null 2>&1 && return
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        say "starting the Docker service"
        systemctl start docker || true
    else
        [ "$(id -u)" -eq 0 ] || die "no Docker daemon answers; start one or run this as root"
        say "no Docker daemon answers: starting dockerd (log: /var/log/neuromutant-dockerd.log)"
        nohup dockerd >/var/log/neuromutant-dockerd.log 2>&1 &
    fi
    local waited=0
    until docker info >/dev/null 2>&1; do
        [ "$waited" -ge "$DOCKER_WAIT_SECONDS" ] && \
            die "Docker did not answer within ${DOCKER_WAIT_SECONDS}s; see /var/log/neuromutant-dockerd.log"
        sleep 1
        waited=$((waited + 1))
    done
    say "Docker answers after ${waited}s"
}

python_env() {
    local python
    python="$(command -v python3.11 || command -v python3)" || die "no python3 found"
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating the virtual environment in .venv ($python)"
        "$python" -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip
    fi
    # torch first, pinned: the CPU build lies on disk; anything else downloads gigabytes.
    if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(not torch.__version__.startswith('$TORCH_VERSION'))" 2>/dev/null; then
        say "installing torch==$TORCH_VERSION"
        "$VENV/bin/pip" install -q "torch==$TORCH_VERSION"
    fi
    local stamp="$VENV/.neuromutant-installed" want
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing neuromutant and its dependencies"
        "$VENV/bin/pip" install -q -e "$ROOT[weights,cluster,dev]"
        echo "$want" >"$stamp"
    fi
}

sandbox_image() {
    "$VENV/bin/nmctl" sandbox build --offline >&2
}

setup() {
    debian_packages
    docker_daemon
    python_env
    sandbox_image
}

case "${1:-}" in
    run)
        setup
        shift
        "$VENV/bin/nmctl" sandbox check >&2
        exec "$VENV/bin/nmd" "$@"
        ;;
    test)
        setup
        shift
        cd "$ROOT"
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    setup)
        setup
        ;;
    *)
        echo "usage: bash daemon/bootstrap.sh run|test|setup [ARGS...]" >&2
        exit 2
        ;;
esac
