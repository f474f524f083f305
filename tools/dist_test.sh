#!/usr/bin/env bash
# Distributed testing, one process per GPU (without GPUs: CPU over gloo).
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# Environment: PORT, NNODES, NODE_RANK, MASTER_ADDR, PYTHON (dist_launch.sh).
exec "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
