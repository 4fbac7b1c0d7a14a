#!/usr/bin/env bash
# Install the Debian packages a step needs, and only the missing ones.
#
#   install_system_deps.sh GROUP|PACKAGE...
#
# Groups: qt (libraries for QT_QPA_PLATFORM=offscreen, and fonts), test (qt + the D-Bus session
# bus and gnome-keyring the keychain tests start), x11 (a real X server for `xvfb-run make run`),
# venv (what `python3 -m venv` needs on a Debian python3). Any other word is a package name.
# `apt-get update` runs only when something is missing. Not root, or not Debian: it says what is
# missing and carries on (the tests then skip, or fail under CI=true, naming the command).
set -euo pipefail

qt=(libgl1 libegl1 libxkbcommon0 libglib2.0-0 libfontconfig1 fonts-dejavu-core libdbus-1-3)
keychain=(dbus-daemon dbus-bin gnome-keyring)
x11=(xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0)

wanted=()
for arg in "$@"; do
    case "$arg" in
        qt) wanted+=("${qt[@]}") ;;
        test) wanted+=("${qt[@]}" "${keychain[@]}") ;;
        x11) wanted+=("${qt[@]}" "${x11[@]}") ;;
        venv) wanted+=(python3-venv) ;;
        *) wanted+=("$arg") ;;
    esac
done
[ "${#wanted[@]}" -gt 0 ] || { echo "usage: $0 qt|test|x11|venv|PACKAGE..." >&2; exit 2; }

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install_system_deps: not a Debian system; make sure these are installed: ${wanted[*]}" >&2
    exit 0
fi

missing=()
for package in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done
[ "${#missing[@]}" -gt 0 ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install_system_deps: missing Debian packages: ${missing[*]}" >&2
    echo "install_system_deps: run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 0
fi

echo "install_system_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
