#!/usr/bin/env bash
# Builds the Debian package with cargo-deb, lists it, and installs it into a scratch root to
# check that the binary, the man page and the completions land where Debian expects them.
#
#   scripts/deb.sh            # needs cargo-deb: cargo install cargo-deb --locked
#
# The package is written to target/debian/. Nothing is installed on this machine: the trial
# install uses `dpkg --root` on a throwaway directory.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deb --version >/dev/null 2>&1; then
    echo "deb.sh: cargo-deb not found; install it with: cargo install cargo-deb --locked" >&2
    exit 1
fi

cargo deb --locked
deb=$(ls -t target/debian/*.deb | head -n 1)
echo "== $deb"
dpkg-deb --info "$deb"
echo "== contents"
dpkg-deb -c "$deb"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/var/lib/dpkg/info" "$scratch/var/lib/dpkg/updates"
: > "$scratch/var/lib/dpkg/status"
echo "== trial install into $scratch"
dpkg --root="$scratch" --log=/dev/null --force-script-chrootless -i "$deb"

fail=0
for f in usr/bin/rtmp usr/share/man/man1/rtmp.1.gz \
    usr/share/bash-completion/completions/rtmp \
    usr/share/zsh/vendor-completions/_rtmp \
    usr/share/fish/vendor_completions.d/rtmp.fish \
    usr/share/doc/rtmp/copyright; do
    if [ -e "$scratch/$f" ]; then
        echo "ok   /$f"
    else
        echo "MISSING /$f"
        fail=1
    fi
done
"$scratch/usr/bin/rtmp" --version
exit "$fail"
