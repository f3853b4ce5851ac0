#!/usr/bin/env bash
# setup.sh: installs what ilgraft needs to build and test, from Debian's packages.
# Idempotent: installs only what is missing. As root it runs apt-get; otherwise it
# prints the exact apt-get line to run and fails.
set -euo pipefail

packages=(
  build-essential cmake pkg-config      # toolchain
  libcapstone-dev libelf-dev libjansson-dev libxxhash-dev  # libraries ilgraft links
  check libsubunit-dev                  # the test framework
  mono-devel mono-utils                 # ilasm builds fixtures; monodis and mono are peers
  binutils                              # objdump and readelf: independent truth in tests
  python3                               # benchmark scripts read JSON with it
  clang libclang-rt-14-dev              # libFuzzer targets (scripts/fuzz.sh)
  valgrind                              # memcheck over the CLI (tests/valgrind)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages; run as root:" >&2
  echo "  apt-get update && $line" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# mono-devel pulls in the reference assemblies (Mono 4.5 profile) the corpus tests read.
$line >/tmp/ilgraft-setup-apt.log 2>&1 || { tail -20 /tmp/ilgraft-setup-apt.log >&2; exit 1; }
echo "setup: done"
