#!/bin/bash
# Runs an image the way SageMaker runs it and checks the platform's expectations. Prints PASS/FAIL lines
# and a last line "IMAGE <size> MB, N checks passed, M failed"; exits non-zero when a check fails.
# Usage: check-image.sh RUNNER IMAGE WORK_DIR    (RUNNER: docker or podman)
set -uo pipefail
RUNNER=${1:?usage: check-image.sh RUNNER IMAGE WORK_DIR}
IMAGE=${2:?}
W=${3:?}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${HOST_PORT:-28080}
NAME=sluice-image-check
MAX_MB=${MAX_IMAGE_MB:-300}
R=("$RUNNER")
if [ "$RUNNER" = podman ]; then
  # Debian's crun refuses some hosts' hybrid cgroup layout; runc works. Ask only for limits the host allows.
  command -v runc > /dev/null && R+=(--runtime runc)
  RUN_OPTS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=32768:32768)
else
  RUN_OPTS=()
fi
mkdir -p "$W"
MODEL="$W/model"; rm -rf "$MODEL"; cp -r "$ROOT/models/default" "$MODEL"; chmod -R a+rX "$MODEL"
passed=0; failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cleanup() { "${R[@]}" rm -f "$NAME" > /dev/null 2>&1; }
trap cleanup EXIT
cleanup
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
wait_ping() {
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ping")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# The image's configuration: an exec-form node ENTRYPOINT, no CMD, a non-root user.
config=$("${R[@]}" image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.User}}' "$IMAGE")
echo "entrypoint, cmd, user: $config"
check "exec-form node ENTRYPOINT, no CMD, user node" \
  bash -c "[[ '$config' == '[\"node\",'*' null node' || '$config' == '[\"node\",'*' [] node' ]]"

out=$("${R[@]}" run "${RUN_OPTS[@]}" --rm "$IMAGE" 2>&1); rc=$?
check "no arguments: usage and a non-zero exit ($rc)" bash -c "[ $rc -ne 0 ] && grep -q 'usage: sluice serve' <<< \"\$0\"" "$out"

# Serve as the platform does: the model read-only at /opt/ml/model, port 8080.
"${R[@]}" run "${RUN_OPTS[@]}" -d --name "$NAME" -p "127.0.0.1:$PORT:8080" -v "$MODEL:/opt/ml/model:ro" "$IMAGE" serve > /dev/null
check "/ping answers 200" wait_ping
params=$(curl -s "http://127.0.0.1:$PORT/execution-parameters")
check "/execution-parameters: $params" grep -q MaxConcurrentTransforms <<< "$params"
lines=$(curl -s -H 'Content-Type: text/csv' -H 'Accept: text/csv' --data-binary @"$MODEL/sample.csv" \
  "http://127.0.0.1:$PORT/invocations" | wc -l)
check "/invocations answers one line per record ($lines)" [ "$lines" = "$(wc -l < "$MODEL/sample.csv")" ]
uid=$("${R[@]}" exec "$NAME" sh -c 'grep ^Uid /proc/1/status' | awk '{print $2}')
check "PID 1 runs as uid 1000 ($uid)" [ "$uid" = 1000 ]
# The runtime itself mounts /etc/hosts, /etc/hostname and /etc/resolv.conf (and the model).
changes=$("${R[@]}" diff "$NAME" 2>/dev/null |
  grep -v -x -E '[ACD] (/etc|/etc/(hosts|hostname|resolv\.conf)|/opt|/opt/ml(/.*)?|/run|/run/\.containerenv)' | tr '\n' ' ' || true)
check "serving wrote no file in the container (telemetry off): ${changes:-none}" [ -z "$changes" ]
t0=$(date +%s.%N); "${R[@]}" stop -t 20 "$NAME" > /dev/null; stopped=$(elapsed "$t0")
code=$("${R[@]}" inspect --format '{{.State.ExitCode}}' "$NAME")
logs=$("${R[@]}" logs "$NAME" 2>&1)
check "SIGTERM: exit $code in ${stopped}s" bash -c "[ '$code' = 0 ] && awk 'BEGIN { exit !($stopped < 5) }'"
check "no telemetry message in the log" bash -c "! grep -qi telemetry <<< \"\$0\"" "$logs"
"${R[@]}" rm "$NAME" > /dev/null

# Batch-job settings, read-only root, no network, no capabilities (network isolation in SageMaker).
"${R[@]}" run "${RUN_OPTS[@]}" -d --name "$NAME" --read-only --network none --cap-drop ALL \
  -e SAGEMAKER_BATCH=true -e SAGEMAKER_MAX_PAYLOAD_IN_MB=6 -e SAGEMAKER_MAX_CONCURRENT_TRANSFORMS=2 \
  -v "$MODEL:/opt/ml/model:ro" "$IMAGE" serve > /dev/null
probe='(async()=>{const b="http://127.0.0.1:8080";for(let i=0;i<100;i++){try{if((await fetch(b+"/ping")).status===200)break}catch{}await new Promise(r=>setTimeout(r,100))}
const e=await (await fetch(b+"/execution-parameters")).json();const body=require("node:fs").readFileSync("/opt/ml/model/sample.csv");
const r=await fetch(b+"/invocations",{method:"POST",headers:{"content-type":"text/csv"},body});
console.log(r.status,(await r.text()).trim().split("\n").length,e.MaxPayloadInMB,e.MaxConcurrentTransforms)})()'
probed=$("${R[@]}" exec "$NAME" node -e "$probe" 2>&1)
check "read-only, no network, no capabilities: answers, and /execution-parameters echoes the job ($probed)" \
  [ "$probed" = "200 3 6 2" ]
"${R[@]}" stop -t 20 "$NAME" > /dev/null
check "read-only run stops with exit 0" [ "$("${R[@]}" inspect --format '{{.State.ExitCode}}' "$NAME")" = 0 ]
"${R[@]}" rm "$NAME" > /dev/null

# An XGBoost model as a SageMaker training job leaves it (`xgboost-model`, no ONNX file), fed rows with
# missing values: the answers must be XGBoost's own (saved beside the fixture by make-tabular-fixtures.py).
FIXTURE="$ROOT/test/fixtures/tabular/xgb-binary-logistic"
XGB="$W/model-xgboost"; rm -rf "$XGB"; cp -r "$FIXTURE" "$XGB"; chmod -R a+rX "$XGB"
rows=$(node -e 'const e = require(process.argv[1]);
  process.stdout.write(e.rows.map((r) => r.map((v) => (v === null ? "" : v)).join(",")).join("\n"))' "$FIXTURE.expected.json")
expected=$(node -e 'process.stdout.write(require(process.argv[1]).predictions.flat().join("\n"))' "$FIXTURE.expected.json")
"${R[@]}" run "${RUN_OPTS[@]}" -d --name "$NAME" --read-only --network none \
  -v "$XGB:/opt/ml/model:ro" "$IMAGE" serve > /dev/null
csv_probe='(async()=>{const b="http://127.0.0.1:8080";for(let i=0;i<100;i++){try{if((await fetch(b+"/ping")).status===200)break}catch{}await new Promise(r=>setTimeout(r,100))}
const r=await fetch(b+"/invocations",{method:"POST",headers:{"content-type":"text/csv"},body:process.argv[1]+"\n"});
process.stdout.write(await r.text())})()'
answered=$("${R[@]}" exec "$NAME" node -e "$csv_probe" "$rows" 2>&1)
close_to_xgboost() {
  [ "$(wc -l <<< "$answered")" = "$(wc -l <<< "$expected")" ] &&
    paste <(echo "$answered") <(echo "$expected") | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-5 || $1 == "") bad = 1 } END { exit bad }'
}
check "an XGBoost model as SageMaker saves it answers as XGBoost does ($(wc -l <<< "$answered") rows, missing values)" \
  close_to_xgboost
"${R[@]}" stop -t 20 "$NAME" > /dev/null
"${R[@]}" rm "$NAME" > /dev/null

# A codec plugin shipped in the model directory (sluice.json "codecs"), outside /opt/sluice: it imports
# sluice/codec-kit, which must resolve to the image's Sluice.
PLUGGED="$W/model-with-codec"; rm -rf "$PLUGGED"; cp -r "$MODEL" "$PLUGGED"
mkdir -p "$PLUGGED/codecs/npy"; cp -r "$ROOT/plugins/npy/package.json" "$ROOT/plugins/npy/dist" "$PLUGGED/codecs/npy/"
echo '{ "codecs": ["./codecs/npy"] }' > "$PLUGGED/sluice.json"; chmod -R a+rX "$PLUGGED"
"${R[@]}" run "${RUN_OPTS[@]}" -d --name "$NAME" --read-only --network none \
  -v "$PLUGGED:/opt/ml/model:ro" "$IMAGE" serve > /dev/null
npy_probe='(async()=>{const b="http://127.0.0.1:8080";for(let i=0;i<100;i++){try{if((await fetch(b+"/ping")).status===200)break}catch{}await new Promise(r=>setTimeout(r,100))}
let h="{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (1, 784), }";h+=" ".repeat(64-((10+h.length+1)%64||64))+"\n";
const body=new Uint8Array(10+h.length+784*4);body.set([0x93,0x4e,0x55,0x4d,0x50,0x59,1,0]);new DataView(body.buffer).setUint16(8,h.length,true);body.set(new TextEncoder().encode(h),10);
const r=await fetch(b+"/invocations",{method:"POST",headers:{"content-type":"application/x-npy"},body});
console.log(r.status,r.headers.get("content-type"),(await r.arrayBuffer()).byteLength)})()'
plugged=$("${R[@]}" exec "$NAME" node -e "$npy_probe" 2>&1)
check "a codec shipped in the model directory answers .npy in the image ($plugged)" \
  grep -q '^200 application/x-npy ' <<< "$plugged"
"${R[@]}" stop -t 20 "$NAME" > /dev/null
"${R[@]}" rm "$NAME" > /dev/null

# SIGTERM while an invocation is in flight: it is answered in full, then the server exits 0.
big="$W/big.csv"; for _ in $(seq 1 4000); do cat "$MODEL/sample.csv"; done > "$big"
"${R[@]}" run "${RUN_OPTS[@]}" -d --name "$NAME" -p "127.0.0.1:$PORT:8080" -v "$MODEL:/opt/ml/model:ro" "$IMAGE" serve > /dev/null
wait_ping
curl -s --limit-rate 10M -o "$W/in-flight.csv" -w '%{http_code}' -H 'Content-Type: text/csv' \
  --data-binary @"$big" "http://127.0.0.1:$PORT/invocations" > "$W/in-flight.code" &
client=$!
sleep 1
"${R[@]}" stop -t 20 "$NAME" > /dev/null
wait $client
code=$("${R[@]}" inspect --format '{{.State.ExitCode}}' "$NAME")
"${R[@]}" rm "$NAME" > /dev/null
check "SIGTERM mid-invocation: $(cat "$W/in-flight.code") with $(wc -l < "$W/in-flight.csv") lines, exit $code" \
  bash -c "[ \"\$(cat '$W/in-flight.code')\" = 200 ] && [ \"\$(wc -l < '$W/in-flight.csv')\" = 12000 ] && [ '$code' = 0 ]"

# No model inside a batch job: a fast, non-zero exit with the reason.
timeout 60 "${R[@]}" run "${RUN_OPTS[@]}" --rm -e SAGEMAKER_BATCH=true "$IMAGE" serve > "$W/no-model.log" 2>&1; rc=$?
check "no model in a batch job: exit $rc" bash -c "[ $rc -ne 0 ] && [ $rc -ne 124 ]"

bytes=$("${R[@]}" image inspect --format '{{.Size}}' "$IMAGE")
mb=$((bytes / 1000000))
check "image size ${mb} MB (at most $MAX_MB)" [ "$mb" -le "$MAX_MB" ]
echo "IMAGE ${mb} MB, $passed checks passed, $failed failed"
[ "$failed" = 0 ]
