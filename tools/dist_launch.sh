#!/usr/bin/env bash
# What dist_train.sh and dist_test.sh run: TOOL (train.py or test.py) in
# GPUS processes on this node with torchrun, --launcher pytorch. On a
# machine without GPUs the processes train on CPU over gloo.
#   tools/dist_launch.sh TOOL GPUS [TOOL arguments]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR; the port: PORT (29500);
# the interpreter: PYTHON (python).
set -euo pipefail

TOOL=$1
GPUS=$2

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$GPUS" \
    --master_port="${PORT:-29500}" \
    "$(dirname "$0")/$TOOL" "${@:3}" --launcher pytorch
