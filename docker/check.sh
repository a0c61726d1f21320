#!/usr/bin/env bash
# Runs a built image the way compose.yaml does, against this machine's PostgreSQL and
# Redis (host networking, for engines without a bridge): a web and a worker container,
# read-only root filesystem, secrets as files, one named volume. Prints what it sees:
# health of both roles, the user, a release scheduled through the web container and
# emailed by the worker at its time, and how long `docker stop` takes.
#
#   docker/check.sh [IMAGE]        # default: newsroom
#
# Needs docker, curl, psql, redis-server and redis-cli; uses ports 3300, 3301 and 3311,
# the database newsroom_docker, and a Redis of its own on port 3312 (started here and
# shut down at the end: a Redis other work uses is never touched).
set -u
IMG=${1:-newsroom}
REDIS_PORT=3312
psql -h 127.0.0.1 -U postgres -d test -qc 'DROP DATABASE IF EXISTS newsroom_docker' -c 'CREATE DATABASE newsroom_docker' >/dev/null
redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --logfile /tmp/nr-check-redis.log
for _ in $(seq 20); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 && break; sleep 0.2; done
docker rm -f nr-web nr-worker nr-all >/dev/null 2>&1
docker volume rm nr-data >/dev/null 2>&1
mkdir -p /tmp/nr-secrets && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > /tmp/nr-secrets/admin_token
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > /tmp/nr-secrets/signing_secret
chmod 644 /tmp/nr-secrets/*
ADMIN=$(cat /tmp/nr-secrets/admin_token)
common=(--network host --read-only --tmpfs /tmp -v nr-data:/app/data -v /tmp/nr-secrets:/run/secrets:ro
  --stop-timeout 10 --health-interval 2s --health-start-period 5s
  -e PUBLIC_URL=http://localhost:3300 -e DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_docker
  -e REDIS_URL=redis://127.0.0.1:$REDIS_PORT -e ADMIN_TOKEN_FILE=/run/secrets/admin_token
  -e SIGNING_SECRET_FILE=/run/secrets/signing_secret -e SHUTDOWN_GRACE_SECONDS=8)
docker run -d --name nr-web "${common[@]}" -e PORT=3300 -e HEALTH_PORT=3301 "$IMG" --role=web
docker run -d --name nr-worker "${common[@]}" -e HEALTH_PORT=3311 -e ROLE=worker "$IMG"
for i in $(seq 60); do
  w=$(docker inspect -f '{{.State.Health.Status}}' nr-web); k=$(docker inspect -f '{{.State.Health.Status}}' nr-worker)
  [ "$w" = healthy ] && [ "$k" = healthy ] && break; sleep 1
done
echo "health after ${i}s: web=$w worker=$k"
echo "uid in web: $(docker exec nr-web id -u), in worker: $(docker exec nr-worker id -u)"
echo "web /healthz: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:3300/healthz); worker's HEALTH_PORT: $(curl -s http://127.0.0.1:3311/healthz)"
echo "root fs read-only: $(docker exec nr-web sh -c 'touch /app/x 2>&1 || true')"
echo "role of the worker from the environment: $(docker inspect -f '{{.Config.Env}}' nr-worker | grep -o 'ROLE=worker'); of the web container from its arguments: $(docker inspect -f '{{.Args}}' nr-web)"
# A release published through the web container reaches an email written by the worker container.
api() { curl -s -H "Authorization: Bearer $1" -H 'Content-Type: application/json' "${@:2}"; }
api "$ADMIN" -X POST http://127.0.0.1:3300/api/newsrooms -d '{"slug":"kaupunki","languages":["fi","sv"],"name":{"fi":"Kaupunki","sv":"Staden"}}' > /dev/null
TOKEN=$(api "$ADMIN" -X POST http://127.0.0.1:3300/api/newsrooms/kaupunki/tokens -d '{"name":"viestintä"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
curl -s -o /dev/null -w 'subscribe: %{http_code}\n' -X POST http://127.0.0.1:3300/api/newsrooms/kaupunki/subscribers/import -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"consent":{"source":"docker check","collectedAt":"2026-11-01T00:00:00Z"},"subscribers":[{"email":"toimittaja@example.fi","languages":["fi"]},{"email":"redaktor@example.se","languages":["sv"]}]}'
ID=$(api "$TOKEN" -X POST http://127.0.0.1:3300/api/newsrooms/kaupunki/releases -d '{"translations":{"fi":{"title":"Uusi kirjasto avataan","lead":"Kirjasto avautuu.","body":"Tervetuloa."},"sv":{"title":"Nytt bibliotek öppnar","lead":"Biblioteket öppnar.","body":"Välkommen."}}}' | sed -E 's/^\{"id":"([^"]+)".*/\1/')
AT=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
curl -s -o /dev/null -w "schedule $ID at $AT: %{http_code}\n" -X POST "http://127.0.0.1:3300/api/releases/$ID/schedule" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "{\"publishAt\":\"$AT\"}"
echo "before publishAt: GET /api/releases/$ID -> $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:3300/api/releases/$ID)"
# The logo goes through sharp (a native module) inside the image.
node -e "require('sharp')({create:{width:400,height:200,channels:3,background:'#0a5'}}).png().toFile('/tmp/nr-logo.png')"
LOGO=$(curl -s -X PUT http://127.0.0.1:3300/api/newsrooms/kaupunki/logo -H "Authorization: Bearer $TOKEN" -F file=@/tmp/nr-logo.png | grep -o '"logoUrl":"[^"]*"')
echo "logo: $LOGO -> $(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$(echo "$LOGO" | sed -E 's/.*"(http[^"]+)"/\1/')")"
sleep 10
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:3300/api/releases/$ID/deliveries"; echo
echo "outbox in the shared volume: $(docker exec nr-worker sh -c 'ls /app/data/outbox | wc -l') .eml files"
echo "RSS (fi): $(curl -s http://127.0.0.1:3300/kaupunki/fi/rss.xml | grep -c 'Uusi kirjasto') matching items"
for c in nr-web nr-worker; do
  s=$(date +%s.%N); docker stop "$c" >/dev/null; e=$(date +%s.%N)
  echo "docker stop $c: $(echo "$e - $s" | bc) s, exit code $(docker inspect -f '{{.State.ExitCode}}' $c)"
done
docker logs nr-worker 2>&1 | tail -2
docker rm nr-web nr-worker >/dev/null && docker volume rm nr-data >/dev/null
psql -h 127.0.0.1 -U postgres -d test -qc 'DROP DATABASE newsroom_docker' >/dev/null
redis-cli -p $REDIS_PORT shutdown nosave >/dev/null 2>&1
