# Sourced by browser_env.sh and node_env.sh: install_debian_packages WHAT PACKAGE...
# installs Debian's PACKAGEs (needed for WHAT) with apt-get when this runs as root on a
# system that has apt-get, and returns non-zero without trying otherwise, so that the
# caller can say what to install.
install_debian_packages() {
  local what=$1
  shift
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    return 1
  fi
  echo "Installing Debian's $* (apt-get) for $what"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
