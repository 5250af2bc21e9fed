#!/usr/bin/env bash
# Three NATS JetStream servers and three chatroom nodes on loopback, as one
# chat, for a person to try with ssh (task cluster). Everything lives in
# ./.cluster; Ctrl+C stops it all. Ports: NATS clients 4222-4224, NATS
# routes 6222-6224, chat nodes 2231-2233 (set BASE to move the chat ports).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/.cluster
bin=$root/bin
base=${BASE:-2230}
mkdir -p "$bin"

echo "building chatroom and nats-server v2.15.2 into $bin"
go build -o "$bin/chatroom" ./cmd/chatroom
# Pinned here, as go.mod pins the server the tests embed.
GOBIN=$bin go install github.com/nats-io/nats-server/v2@v2.15.2

pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

urls=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224
for i in 1 2 3; do
  routes=""
  for j in 1 2 3; do
    [ "$i" = "$j" ] || routes+="${routes:+,}nats://127.0.0.1:$((6221 + j))"
  done
  mkdir -p "$root/nats$i"
  "$bin/nats-server" -js -n "n$i" -a 127.0.0.1 -p $((4221 + i)) -sd "$root/nats$i" \
    --cluster_name chat --cluster "nats://127.0.0.1:$((6221 + i))" --routes "$routes" \
    >"$root/nats$i.log" 2>&1 &
  pids+=($!)
done

for n in a b c; do
  i=$(( $(printf '%d' "'$n") - 96 ))
  # The log goes through sed for a prefix; $! must be the node itself.
  "$bin/chatroom" --listen "127.0.0.1:$((base + i))" --data "$root/$n" \
    --nats "$urls" --node "$n" > >(sed -u "s/^/[$n] /") 2>&1 &
  pids+=($!)
done

echo
echo "three nodes, one chat: ssh -p $((base + 1)) localhost, ssh -p $((base + 2)) localhost, ssh -p $((base + 3)) localhost"
echo "NATS logs in $root/nats*.log; Ctrl+C stops everything"
wait
