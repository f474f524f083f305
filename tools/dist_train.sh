#!/usr/bin/env bash
# Distributed training, one process per GPU (without GPUs: CPU over gloo).
#   tools/dist_train.sh CONFIG GPUS [train.py options]
# Environment: PORT, NNODES, NODE_RANK, MASTER_ADDR, PYTHON (dist_launch.sh).
exec "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
