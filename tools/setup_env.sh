#!/usr/bin/env bash
# Create a project-local virtualenv with one of the two supported stacks:
#   STACK=openmmlab (default): OpenMMLab's last releases, into .venv
#   STACK=onedl: OneDL Lab's onedl-mm* continuation, into .venv-onedl
# (VENV= overrides the folder). Run again, it is a quick no-op: a stamp
# records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=${STACK:-openmmlab}
case "$STACK" in
  openmmlab) default_venv=.venv; mmcv_spec=mmcv==2.1.0
             mmengine_spec=mmengine==0.10.7; mmcv_minutes=9 ;;
  onedl) default_venv=.venv-onedl; mmcv_spec=onedl-mmcv==2.3.6
         mmengine_spec=onedl-mmengine==0.10.12; mmcv_minutes=10 ;;
  *) echo "[setup] STACK=$STACK: choose STACK=openmmlab or STACK=onedl" >&2
     exit 2 ;;
esac
VENV=${VENV:-$default_venv}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
STAMP="$VENV/.mmpoolformer-setup"
want=$(echo "$STACK" | cat - tools/setup_env.sh requirements/*.txt setup.py \
  | sha1sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

if command -v nvidia-smi >/dev/null 2>&1; then
  echo "[setup] NVIDIA GPU found, but this sets up the CPU build; for CUDA torch and mmcv ops see docs/get_started.md, 'GPU set-up'"
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
# pip, quiet, without the machine's noise about absent local index folders.
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@" 2> >(grep -v "^WARNING: Location" >&2); }

echo "[setup] $STACK stack into $VENV: torch (CPU wheel), mmengine and build tools"
pip install -U pip
pip install -r requirements/torch.txt
# mmcv's setup.py imports torch: build it without isolation, against this
# venv's torch (an isolated build would fetch another torch).
if ! "$VENV/bin/python" -c "import mmcv, mmcv.ops" 2>/dev/null; then
  echo "[setup] building $mmcv_spec with its ops from source (about $mmcv_minutes minutes on 2 cores, cached afterwards)"
  # mmcv 2.1.0's setup.py needs pkg_resources, which setuptools>=70 no
  # longer ships; onedl-mmcv builds with either.
  pip install "setuptools<70" wheel ninja "$mmengine_spec" numpy
  MAX_JOBS=${MAX_JOBS:-2} pip install --no-build-isolation "$mmcv_spec"
fi
# torch asks for >=77; OpenMMLab's mmengine resolves `mmdet::`/`mmseg::`
# config bases through pkg_resources, which setuptools 81 removed.
pip install "setuptools>=77.0.3,<81"
echo "[setup] mmdet, mmsegmentation, ONNX Runtime, the docs tools and the rest"
pip install -r "requirements/$STACK.txt" -r requirements/runtime.txt \
  -r requirements/tests.txt -r requirements/deploy.txt -r requirements/docs.txt
# imgaug ships the demo's quokka photo; its own deps are not needed (files are read, not imported).
pip install --no-deps imgaug==0.4.0
pip install --no-build-isolation --no-deps -e .
echo "$want" > "$STAMP"
echo "[setup] done: $VENV"
