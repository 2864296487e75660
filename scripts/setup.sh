#!/usr/bin/env bash
# Installs the Debian packages wbpf needs, and does nothing when everything is present, so it is
# safe to run before every build.
#   scripts/setup.sh         everything the tests, examples and benchmarks need (make test)
#   scripts/setup.sh build   only what building and running wbpf and C guests needs (make build,
#                            make demo): no Rust, registry, Node or jco, so a first `make demo`
#                            installs a handful of packages and needs no npm registry
set -euo pipefail
scope=${1:-all}
case $scope in
all | build) ;;
*)
  echo "setup: unknown scope $scope (want: build, or nothing for all)" >&2
  exit 2
  ;;
esac

pkgs=(
  clang-19 lld-19 llvm-19          # -target bpf objects, wasm32 guests, llvm-strip
  wasi-libc libclang-rt-19-dev-wasm32
  libbpf-dev linux-libc-dev        # bpf_helpers.h, linux/bpf.h
  make
)
if [ "$scope" = all ]; then
  pkgs+=(
    bpftool                        # the reference the header generator is measured against
    wabt                           # wat2wasm for hand-written bad guests
    docker-registry                # a real OCI registry for the end-to-end tests
    iproute2                       # veth pairs and network namespaces in tests
    rustc cargo libstd-rust-dev-wasm32 lld-14   # Rust guests: Rust 1.63 for wasm32-wasi, wasm-ld-14
  )
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install packages (run as root or with sudo)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: Go 1.26 or later is required (https://go.dev/dl/)" >&2
  exit 1
fi

[ "$scope" = all ] || exit 0

# The reference WIT parser the witgen tests run every generated file through: jco 1.10.0 (it
# bundles wit-parser; later jco releases cannot read WIT files under Node 20), installed into
# .tools/ of this checkout (git-ignored). Node and npm come from apt only when absent, so a
# NodeSource Node (which ships its own npm) is left alone.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install packages (run as root or with sudo)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools"
jco_pkg="$tools/node_modules/@bytecodealliance/jco/package.json"
if ! [ -x "$tools/node_modules/.bin/jco" ] || ! grep -q '"version": "1.10.0"' "$jco_pkg" 2>/dev/null; then
  echo "setup: installing @bytecodealliance/jco@1.10.0 into $tools" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error @bytecodealliance/jco@1.10.0 >/dev/null
fi
