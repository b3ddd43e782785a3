#!/usr/bin/env bash
# run-shard.sh - one shard of a ptrscan sweep, as a pod of an Indexed Job.
#
# Kubernetes sets JOB_COMPLETION_INDEX to 0..completions-1 in an Indexed Job;
# `ptrscan scan --shard I/N` is 0-based too (I = 0..N-1), so the index is used
# as is: --shard "$JOB_COMPLETION_INDEX/$SHARDS".  SHARDS must equal the Job's
# `completions`.
#
# Environment (see job.yaml):
#   JOB_COMPLETION_INDEX  set by Kubernetes (0-based)
#   SHARDS                number of shards = the Job's completions
#   SEED                  scan order seed; the SAME on every shard (default 0)
#   MAX_ADDRESSES         guard; compared with the size of the WHOLE input, not
#                         the shard, so it must cover the whole input (default 2^24)
#   OUT_DIR               where out-<index>.parquet goes (default /data/out)
#   CONFIG_DIR            targets.txt and resolvers.txt (default /etc/ptrscan)
#   PTRSCAN               scanner binary (default: ptrscan on PATH)
#   PTRSCAN_EXTRA_ARGS    more scan flags, e.g. "--rate 5000 --retries 4"
#
# The files are written in $OUT_DIR/.shard-<index>/ and moved to
# $OUT_DIR/out-<index>*.parquet only when ptrscan exits 0, so a merge never
# reads a shard that was cut short (SIGTERM on eviction: ptrscan closes a
# valid file, keeps its checkpoint and exits 130; the retried pod resumes
# from the checkpoint).  A retry of an index whose out file exists exits 0
# at once.
set -euo pipefail

# Setup errors exit 2 (job.yaml's podFailurePolicy does not retry them);
# ptrscan's own exit code is passed through (1: bad input or I/O, retried;
# 130: interrupted, retried).
die() { echo "run-shard: error: $*" >&2; exit 2; }

index="${JOB_COMPLETION_INDEX:-}"
shards="${SHARDS:-}"
[[ "$index" =~ ^[0-9]+$ ]] || die "JOB_COMPLETION_INDEX='$index' is not a whole number (run this in an Indexed Job: completionMode: Indexed)"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "SHARDS='$shards' must be a positive whole number equal to the Job's completions"
(( index < shards )) || die "index $index is not below SHARDS=$shards: set SHARDS to the Job's completions"

config="${CONFIG_DIR:-/etc/ptrscan}"
out_dir="${OUT_DIR:-/data/out}"
ptrscan="${PTRSCAN:-ptrscan}"
seed="${SEED:-0}"
max_addresses="${MAX_ADDRESSES:-16777216}"
[ -r "$config/targets.txt" ] || die "$config/targets.txt not readable (ConfigMap key targets.txt)"
[ -r "$config/resolvers.txt" ] || die "$config/resolvers.txt not readable (ConfigMap key resolvers.txt)"
mkdir -p "$out_dir" || die "cannot create $out_dir (is the volume mounted and writable?)"

final="$out_dir/out-$index.parquet"
# The shard is scanned in its own work directory and its files are moved
# into $out_dir only when ptrscan exits 0, so `out-*.parquet` never holds a
# shard cut short. A big shard writes several part files (out-I.parquet,
# out-I-0001.parquet, ...: --part-rows), all matched by out-*.parquet. A
# retried shard continues from its checkpoint (--resume) instead of starting
# over.
work="$out_dir/.shard-$index"
partial="$work/out-$index.parquet"
if [ -s "$final" ]; then
    echo "run-shard: $final exists; shard $index/$shards already done"
    exit 0
fi

mkdir -p "$work" || die "cannot create $work"
resume=()
if [ -e "$partial.checkpoint" ]; then
    resume=(--resume)
    echo "run-shard: resuming shard $index/$shards from $partial.checkpoint"
fi

echo "run-shard: shard $index/$shards seed $seed -> $final ($(date -u +%FT%TZ))"
# This script is PID 1 of the container: the kubelet's SIGTERM reaches only
# it, so it is passed on to ptrscan (which then stops sending, lets queries in
# flight finish for at most 2 s, closes the file and exits 130).
# PTRSCAN_EXTRA_ARGS is split on spaces on purpose.
# shellcheck disable=SC2086
"$ptrscan" scan \
    -i "$config/targets.txt" \
    --resolvers "$config/resolvers.txt" \
    --seed "$seed" \
    --shard "$index/$shards" \
    --max-addresses "$max_addresses" \
    --format parquet -o "$partial" "${resume[@]}" \
    ${PTRSCAN_EXTRA_ARGS:-} &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
while :; do
    rc=0
    wait "$child" || rc=$?
    kill -0 "$child" 2>/dev/null || break   # still running: wait was cut short by the trap
done
trap - TERM INT
if [ "$rc" != 0 ]; then
    echo "run-shard: error: ptrscan exited $rc; $final not written (partial output: $partial)" >&2
    exit "$rc"
fi
# Extra parts first, the first part last: its name is what "done" means.
for part in "$work"/out-"$index"-*.parquet; do
    [ -e "$part" ] && mv -f "$part" "$out_dir/"
done
mv -f "$partial" "$final"
rmdir "$work" 2>/dev/null || true
echo "run-shard: done $final ($(date -u +%FT%TZ))"
