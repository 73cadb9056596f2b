#!/bin/sh
# Installs rtmp's binary, man page and shell completions under a prefix.
#
#   scripts/install.sh                      # into /usr/local
#   PREFIX=$HOME/.local scripts/install.sh  # into ~/.local
#   DESTDIR=/tmp/stage PREFIX=/usr scripts/install.sh   # staged, for packagers
#
# BIN may name an already built binary. Without it the script runs
# `cargo build --release --locked` first (a no-op when nothing changed), so what it installs is
# the current source with the tested dependency versions, never a stale target/release/rtmp.
# Completions go where each shell looks for vendor completions under PREFIX; elvish and
# PowerShell scripts stay in completions/ (they have no system-wide directory).
set -eu
cd "$(dirname "$0")/.."

prefix=${PREFIX:-/usr/local}
dest=${DESTDIR:-}
if [ -n "${BIN:-}" ]; then
    bin=$BIN
else
    cargo build --release --locked
    bin=target/release/rtmp
fi
if [ ! -x "$bin" ]; then
    echo "install.sh: $bin is not an executable" >&2
    exit 1
fi

root=$dest$prefix
install -d "$root/bin" "$root/share/man/man1" \
    "$root/share/bash-completion/completions" \
    "$root/share/zsh/site-functions" \
    "$root/share/fish/vendor_completions.d"
install -m 755 "$bin" "$root/bin/rtmp"
install -m 644 man/rtmp.1 "$root/share/man/man1/rtmp.1"
install -m 644 completions/rtmp.bash "$root/share/bash-completion/completions/rtmp"
install -m 644 completions/_rtmp "$root/share/zsh/site-functions/_rtmp"
install -m 644 completions/rtmp.fish "$root/share/fish/vendor_completions.d/rtmp.fish"
echo "installed rtmp under $root"
