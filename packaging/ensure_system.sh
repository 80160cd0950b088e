#!/usr/bin/env bash
# Make sure the Debian/Ubuntu packages DeepScope needs are installed (ENVIRONMENT.md):
# installs them when run as root, otherwise prints the one `sudo apt-get` line and fails.
set -euo pipefail
packages=(libgl1 libegl1 libglib2.0-0 libfontconfig1 libxkbcommon0 libdbus-1-3 libusb-1.0-0
          libvulkan1 mesa-vulkan-drivers xvfb xauth libxcb-cursor0 libxcb-icccm4
          libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0 libxcb-randr0 libxcb-render-util0
          libxcb-image0 libxcb-xinerama0 libxcb-xkb1)
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  packages+=(python3 python3-venv)
elif ! "$python" -c "import ensurepip, venv" 2>/dev/null; then
  packages+=(python3-venv)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "DeepScope needs these Debian packages; please run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
