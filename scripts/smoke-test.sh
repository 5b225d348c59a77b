#!/usr/bin/env bash
# Smoke test of a deployed stage: GET /health, then one record's POST -> GET -> DELETE -> GET 404.
#
#   scripts/smoke-test.sh https://abc123.execute-api.eu-west-1.amazonaws.com/dev/ [api-key] [id-token]
#
# With an ID token (a stage with AuthMode=cognito), every /records request carries it, and the record
# is created under SMOKE_EMAIL, the token's own verified email.
#
# Exits non-zero, saying which step failed, at the first unexpected status. The record it creates
# has a unique e-mail address and is deleted again.
set -euo pipefail

base="${1:?usage: smoke-test.sh BASE_URL [API_KEY]}"
base="${base%/}"
api_key="${2:-}"
token="${3:-}"
origin="$(printf '%s' "$base" | sed -E 's#^(https?://[^/]+).*#\1#')"
email="${SMOKE_EMAIL:-smoke-$(date +%s)-$RANDOM@example.com}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# request METHOD URL EXPECTED_STATUS [JSON_BODY]: the body lands in $work/body, headers in
# $work/headers; returns 1 (which stops the script, under set -e) on any other status.
request() {
  local method="$1" url="$2" expected="$3" body="${4:-}" status
  local args=(--silent --show-error --max-time 30 --request "$method" --output "$work/body"
    --dump-header "$work/headers" --write-out '%{http_code}' --header 'Accept: application/json')
  if [ -n "$api_key" ]; then args+=(--header "x-api-key: $api_key"); fi
  if [ -n "$token" ]; then args+=(--header "Authorization: $token"); fi
  if [ -n "$body" ]; then args+=(--header 'Content-Type: application/json' --data "$body"); fi
  status="$(curl "${args[@]}" "$url")"
  if [ "$status" != "$expected" ]; then
    echo "FAIL: $method $url answered $status, expected $expected" >&2
    cat "$work/body" >&2 || true
    echo >&2
    return 1
  fi
  echo "ok: $method $url -> $status"
}

# A fresh stage can take a few seconds to answer: retry /health only (it changes nothing).
attempts="${SMOKE_HEALTH_ATTEMPTS:-6}"
for ((attempt = 1; attempt < attempts; attempt++)); do
  if request GET "$base/health" 200 2>/dev/null; then break; fi
  sleep 5
done
if [ "$attempts" -le 1 ] || [ "$attempt" -ge "$attempts" ]; then request GET "$base/health" 200; fi

request POST "$base/records" 201 "{\"email\": \"$email\", \"name\": \"Smoke test\"}"
location="$(tr -d '\r' < "$work/headers" | sed -n 's/^[Ll]ocation: *//p' | tail -n 1)"
if [ -z "$location" ]; then
  echo "FAIL: POST /records answered 201 without a Location header" >&2
  exit 1
fi
case "$location" in
  http://* | https://*) record="$location" ;;
  *) record="$origin$location" ;;
esac

request GET "$record" 200
grep -q "\"$email\"" "$work/body" || { echo "FAIL: GET $record did not return $email" >&2; exit 1; }
request DELETE "$record" 204
request GET "$record" 404
echo "smoke test passed: $base"
