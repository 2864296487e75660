#!/bin/sh
# The RUSTC_WRAPPER of `make examples`, so that Rust guests are byte for byte the same from any
# checkout. Debian's cargo (0.66) hashes the checkout's path into each crate's -C metadata,
# which seeds symbol hashes and with them the code's layout: the wrapper gives every crate the
# same metadata (crate names still tell them apart). Panic locations name source files: the
# checkout's path ($WBPF_ROOT) is mapped to ".". (Not through RUSTFLAGS: cargo hashes those
# into the metadata too.)
prev=
for a do
    shift
    case "$prev:$a" in
    -C:metadata=*) a=metadata=wbpf-examples ;;
    esac
    set -- "$@" "$a"
    prev=$a
done
exec "$@" --remap-path-prefix="$WBPF_ROOT=."
