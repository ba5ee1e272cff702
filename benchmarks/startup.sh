#!/usr/bin/env bash
# Start-up to exit of shmkit, native (NativeAOT) against JIT, in one run, interleaved:
#   native   artifacts/native/linux-x64/shmkit (.ci/native builds it)
#   tool     the .NET tool, packed from this tree and installed with `dotnet tool install --tool-path` (its shim)
#   dotnet   dotnet src/ShmKit.Cli/bin/Release/net10.0/ShmKit.Cli.dll
# for `shmkit list` and `shmkit sem op KEY --delta 1` (each followed by an untimed --delta -1 that puts the value
# back). Each round runs every variant once, in turn, so all of them see the same machine load; the table gives
# median, 10th and 90th percentile over the rounds, in milliseconds, wall clock from fork to exit as the shell sees it.
#   benchmarks/startup.sh [ROUNDS]        (default 51)
# Everything it creates (a semaphore set under a test key, the temp tool directory) is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-51}
native=artifacts/native/linux-x64/shmkit
[ -x "$native" ] || { echo "build the native binary first: .ci/native" >&2; exit 2; }

work=$(mktemp -d /tmp/shmkit-startup.XXXXXX)
key=$(printf '0x5b%04x%02x' $(( $$ & 0xffff )) $(( RANDOM & 0xff )))
cleanup() { "$native" rm "$key" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet pack src/ShmKit.Cli -c Release -o "$work/source" >/dev/null
version=$(dotnet msbuild src/ShmKit -getProperty:PackageVersion)
NUGET_PACKAGES="$work/packages" dotnet tool install ShmKit.Cli --version "$version" --add-source "$work/source" --tool-path "$work/tool" >/dev/null
dll=src/ShmKit.Cli/bin/Release/net10.0/ShmKit.Cli.dll
"$native" sem create --key "$key" --values 0 >/dev/null

names=(native tool dotnet)
commands=("$native" "$work/tool/shmkit" "dotnet $dll")

declare -A samples
for ((r = 0; r < rounds; r++)); do
  for i in "${!names[@]}"; do
    # shellcheck disable=SC2086 # the dotnet variant is two words
    set -- ${commands[$i]}
    t0=${EPOCHREALTIME/./}; "$@" list >/dev/null; t1=${EPOCHREALTIME/./}
    "$@" sem op "$key" --delta 1 >/dev/null; t2=${EPOCHREALTIME/./}
    "$@" sem op "$key" --delta -1 --nowait >/dev/null
    [ "$r" -eq 0 ] && continue   # the first round warms the disk cache
    samples[${names[$i]},list]+="$(( t1 - t0 )) "
    samples[${names[$i]},semop]+="$(( t2 - t1 )) "
  done
done

stat() {  # stat "us us us ..." -> "median p10 p90" in ms
  tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {
    m=a[int((NR+1)/2)]; lo=a[int(NR*0.1)+1]; hi=a[int(NR*0.9)];
    printf "%.1f | %.1f | %.1f", m/1000, lo/1000, hi/1000 }'
}
echo "rounds: $((rounds - 1)) (after one warm-up round); load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo
echo "| variant | command | median ms | p10 ms | p90 ms |"
echo "|---|---|---:|---:|---:|"
for name in "${names[@]}"; do
  echo "| $name | shmkit list | $(stat "${samples[$name,list]}") |"
  echo "| $name | shmkit sem op KEY --delta 1 | $(stat "${samples[$name,semop]}") |"
done
