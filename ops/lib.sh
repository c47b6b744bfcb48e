# Shared by the scripts in ops/: settings, messages and the CQL probe. Source it; do not run it.
# Settings (environment variables):
#   FERRY_STATE   where Ferry keeps what it runs: Cassandra's jars and data, logs, pids
#                 (default: ~/.ferry)
FERRY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FERRY_STATE=${FERRY_STATE:-$HOME/.ferry}

say()  { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# pid_alive FILE: the pid in FILE names a running process.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# cql_answers HOST PORT: a CQL server answers an OPTIONS request with SUPPORTED (opcode 0x06).
cql_answers() {
  local reply
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "\x04\x00\x00\x00\x05\x00\x00\x00\x00" >&3
    head -c 5 <&3 | od -An -tx1' _ "$1" "$2" 2>/dev/null) || return 1
  [ "$(echo $reply | awk '{print $5}')" = "06" ]
}

# install_packages PKG...: install Debian packages (as root; otherwise say what to install). No-op without arguments.
install_packages() {
  [ $# -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "$* missing; install them (apt-get install $*) or run as root"
  say "installing $* from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_java_and_maven: install a JDK 17+ and Maven from Debian's packages when missing (as root).
ensure_java_and_maven() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  install_packages "${missing[@]}"
}

# ensure_chaos_tools: what the fault campaign's rig needs (ops/chaos, and its smoke ChaosIT inside
# ops/test): socat for the proxies that partition an agent, ip for the rig's addresses.
# promtool (Prometheus' own checker of a scrape, for the metrics tests) from Debian's prometheus
# package, unpacked into $FERRY_STATE/bin: installing the package would also start a Prometheus
# server. Prints the binary's path.
ensure_promtool() {
  if command -v promtool >/dev/null; then command -v promtool; return 0; fi
  local bin=$FERRY_STATE/bin/promtool
  if [ ! -x "$bin" ]; then
    say "fetching promtool from Debian's prometheus package into $FERRY_STATE/bin" >&2
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) || { apt-get update -qq && (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); } \
      || die "cannot download Debian's prometheus package (for promtool)"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x" && mkdir -p "$FERRY_STATE/bin" && cp "$tmp/x/usr/bin/promtool" "$bin"
    rm -rf "$tmp"
  fi
  echo "$bin"
}

# Debian's Chromium and its driver, for the browser test of the timeline page (/ui).
ensure_browser() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  install_packages "${missing[@]}"
}

ensure_chaos_tools() {
  local missing=()
  command -v socat >/dev/null || missing+=(socat)
  command -v ip >/dev/null || missing+=(iproute2)
  install_packages "${missing[@]}"
}
