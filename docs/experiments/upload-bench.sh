#!/usr/bin/env bash
# upload-bench.sh BINARY ROWS — times an upload job of ROWS CSV rows (each a
# new customer: email, first and last name, city) on a server BINARY starts
# on 127.0.0.1:8731 with a data dir in /tmp, from StartUploadJob to the
# job's end; prints rows/s and the job's ResultsSummary. Needs the AWS CLI,
# curl and openssl.
set -euo pipefail
BIN=${1:?binary} ROWS=${2:-30000}
DIR=$(mktemp -d /tmp/upload-bench.XXXXXX)
export AWS_ACCESS_KEY_ID=AKIDUPLOADBENCH00001 AWS_SECRET_ACCESS_KEY=upload-bench-secret-0123456789abcdef AWS_DEFAULT_REGION=us-east-1
OPENPROFILES_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID OPENPROFILES_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
	"$BIN" serve --addr 127.0.0.1:8731 --data-dir "$DIR/data" >"$DIR/server.log" 2>&1 &
PID=$!
trap 'kill $PID; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
E="--endpoint-url http://127.0.0.1:8731"
until curl -sf http://127.0.0.1:8731/healthz >/dev/null; do sleep 0.2; done
aws customer-profiles create-domain --domain-name bench --default-expiration-days 30 $E >/dev/null
JOB=$(aws customer-profiles create-upload-job --domain-name bench $E --display-name bench.csv --unique-key email \
	--query JobId --output text --fields '{
	"email":{"Source":"_source.email","Target":"_profile.EmailAddress","ContentType":"EMAIL_ADDRESS"},
	"first":{"Source":"_source.first","Target":"_profile.FirstName","ContentType":"NAME"},
	"last":{"Source":"_source.last","Target":"_profile.LastName","ContentType":"NAME"},
	"city":{"Source":"_source.city","Target":"_profile.Address.City"}}')
{ echo "email,first,last,city"; for ((i = 0; i < ROWS; i++)); do echo "person$i@example.com,First$i,Last$i,Springfield"; done; } >"$DIR/bench.csv"
read -r URL TOKEN <<<"$(aws customer-profiles get-upload-job-path --domain-name bench --job-id "$JOB" $E --query '[Url,ClientToken]' --output text)"
curl -sf -X PUT --upload-file "$DIR/bench.csv" "$URL" -H "x-amz-server-side-encryption-customer-algorithm: AES256" \
	-H "x-amz-server-side-encryption-customer-key: $TOKEN" \
	-H "x-amz-server-side-encryption-customer-key-MD5: $(echo -n "$TOKEN" | base64 -d | openssl md5 -binary | base64)"
START=$(date +%s.%N)
aws customer-profiles start-upload-job --domain-name bench --job-id "$JOB" $E
while [ "$(aws customer-profiles get-upload-job --domain-name bench --job-id "$JOB" $E --query Status --output text)" = IN_PROGRESS ]; do sleep 0.2; done
END=$(date +%s.%N)
aws customer-profiles get-upload-job --domain-name bench --job-id "$JOB" $E --query '[Status,ResultsSummary]' --output json
echo "rows/s: $(echo "$ROWS / ($END - $START)" | bc -l)"
