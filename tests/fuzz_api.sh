#!/usr/bin/env bash
# schemathesis over the OpenAPI document, against a real `xueji serve` on a throwaway
# PostgreSQL database: fixed seed, a bounded number of examples per operation; fails on
# any 5xx, on an answer that breaks the documented schema, status or content type.
#   tests/fuzz_api.sh            (PostgreSQL from XUEJI_TEST_PG, default the local server)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
PG_ADMIN=${XUEJI_TEST_PG:-postgresql://postgres@127.0.0.1:5432/postgres}
DB=xueji_fuzz_$$
PORT=${XUEJI_FUZZ_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
EXAMPLES=${XUEJI_FUZZ_EXAMPLES:-60}
WORK=$(mktemp -d)
SERVER=

cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$DB\"" >/dev/null
export DATABASE_URL=${PG_ADMIN%/*}/$DB
export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export XUEJI_DATA_DIR=$WORK
unset REDIS_URL
PASSWORD='Fuzz-only-pass-7c1e9b'

$BIN/xueji init-db >/dev/null
cat >"$WORK/orgs.csv" <<'CSV'
code,name,level,parent_code,stage,ownership,star
32,江苏省,province,,,,
3212,泰州市,city,32,,,
321202,海陵区,county,3212,,,
321203,高港区,county,3212,,,
FZ1,海陵实验小学,school,321202,primary,public,
FZ2,高港实验小学,school,321203,primary,public,
CSV
$BIN/python - "$WORK/students.csv" <<'PY'
import sys
from datetime import date

from forms.validators import build_id_number

head = "id_number,name,gender,birth_date,school_code,grade,class_name,entry_year,household_code,guardian_name,guardian_phone"
rows = [head]
for n in range(1, 6):
    born = date(2016, n, 10)
    number = build_id_number("321202", born, n, "M")
    rows.append(f"{number},学生{n},M,{born},FZ1,4,1,2023,321202,家长{n},13800000000")
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
$BIN/xueji import orgs "$WORK/orgs.csv" >/dev/null
$BIN/xueji import students "$WORK/students.csv" >/dev/null
echo "$PASSWORD" | $BIN/xueji create-user fuzz_school --org FZ1 --role school --password-stdin >/dev/null
echo "$PASSWORD" | $BIN/xueji create-user fuzz_county --org 321202 --role county --password-stdin >/dev/null

$BIN/xueji serve --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 60); do curl -fs "$BASE/api/v1/openapi.json" >/dev/null && break; sleep 0.5; done
if ! curl -fs "$BASE/api/v1/openapi.json" >/dev/null; then
    echo "xueji serve 未能启动：" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi

token() {
    curl -fs "$BASE/api/v1/auth/token" -H 'Content-Type: application/json' \
        -d "{\"username\": \"$1\", \"password\": \"$PASSWORD\"}" |
        $BIN/python -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# Something to read back: an upload and an application waiting in the county's inbox.
SCHOOL=$(token fuzz_school)
printf '%%PDF-1.4\n%%fuzz\n%%%%EOF\n' >"$WORK/proof.pdf"
FILE=$(curl -fs "$BASE/api/v1/files" -H "Authorization: Bearer $SCHOOL" -F "file=@$WORK/proof.pdf" |
    $BIN/python -c 'import json, sys; print(json.load(sys.stdin)["id"])')
curl -fs "$BASE/api/v1/instances" -H "Authorization: Bearer $SCHOOL" -H 'Content-Type: application/json' \
    -d "{\"procedure\": \"cancellation\", \"student_id\": 1, \"data\": {\"reason\": \"death\", \"evidence\": [$FILE]}}" >/dev/null

status=0
for user in fuzz_school fuzz_county; do
    echo "== schemathesis as $user"
    $BIN/schemathesis run "$BASE/api/v1/openapi.json" \
        --url "$BASE" \
        -H "Authorization: Bearer $(token $user)" \
        --seed 20261201 --max-examples "$EXAMPLES" --generation-database none \
        --phases examples,coverage,fuzzing --workers 2 --no-color \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --request-timeout 30 || status=$?
done
if grep -q "Traceback" "$WORK/server.log"; then
    echo "服务端日志中有异常：" >&2
    grep -B2 -A30 "Traceback" "$WORK/server.log" | head -80 >&2
    status=1
fi
exit $status
