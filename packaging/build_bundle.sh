#!/usr/bin/env bash
# Build the desktop bundle (issue 10 §2) and smoke-test it: the bundled `deepscope screenshot`
# must render the demo session (its demo analysis runs inside the bundle) to a PNG.
#   packaging/build_bundle.sh            → build/bundle/dist/deepscope/ (run ./deepscope there)
# Not part of `make test`. Needs the project's virtual environment (make demo) and Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
out=build/bundle
"$python" -m pip install -q 'pyinstaller>=6.10'
QT_QPA_PLATFORM=offscreen "$python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$out/dist" --workpath "$out/work" packaging/deepscope.spec
bundle="$out/dist/deepscope"
cp packaging/deepscope.desktop "$bundle/"
cp resources/icons/deepscope.png "$bundle/deepscope.png"
home=$(mktemp -d)
DEEPSCOPE_HOME="$home" xvfb-run -a -s "-screen 0 1280x1024x24" "$bundle/deepscope" screenshot --out "$out/smoke.png"
"$python" - "$out/smoke.png" <<'PY'
import sys
from PIL import Image
image = Image.open(sys.argv[1])
assert image.width >= 800 and image.height >= 600, image.size
assert len(set(image.convert("L").getdata())) > 20, "a blank window"
print(f"smoke test: {sys.argv[1]} {image.size[0]}×{image.size[1]}")
PY
rm -rf "$home"
echo "bundle: $bundle ($(du -sh "$bundle" | cut -f1))"
