#!/usr/bin/env bash
# One validator of a gba network on CometBFT (docs/cometbft.md, "Across
# machines: compose and Kubernetes"). In the image: gba-validator.
#
#   gba-validator         configure this validator's CometBFT home from the
#                         init step's files (deploy/cometbft/init.sh) and the
#                         environment, then run the gba ledger's application
#                         (`portledger --engine cometbft`) and `cometbft node`
#                         side by side. When either exits the other is stopped
#                         and the script exits 1, so that the orchestrator
#                         (compose's restart policy, the StatefulSet) restarts
#                         the pair. SIGTERM or SIGINT: the node stops first,
#                         then the application (it writes a snapshot); exit 0.
#   gba-validator ready   exit 0 when the local node answers /status, is not
#                         catching up and has a block (a readiness probe).
#
# Environment (defaults for the image; the tests run it on loopback):
#   COMET_INDEX         this validator, 0 to N-1 (default: the ordinal at the
#                       end of the host name, as a StatefulSet's pod
#                       gba-validator-2 has)
#   COMET_SHARED        the init step's files (default /etc/portrelay/gba-comet)
#   COMET_HOME          its CometBFT home (default /var/lib/portrelay/cometbft)
#   COMET_APP_DIR       its application's data (default /var/lib/portrelay/app)
#   COMET_CHAIN_ID      must equal genesis.json's (default: genesis.json's)
#   COMET_ABCI          the application's ABCI address, proxy_app (default
#                       127.0.0.1:26658)
#   COMET_RPC_LADDR     [rpc] laddr (default tcp://0.0.0.0:26657)
#   COMET_P2P_LADDR     [p2p] laddr (default tcp://0.0.0.0:26656)
#   COMET_PEER_ADDRS    every validator's p2p host:port in index order, comma
#                       separated; this one's is left out and the node IDs
#                       come from node-ids (persistent_peers)
#   COMET_PEERS         or persistent_peers itself (ID@host:port,...)
#   COMET_EXTERNAL_ADDRESS  [p2p] external_address (default none)
#   COMET_TIMEOUT_COMMIT    [consensus] timeout_commit (default 1s)
#   COMET_ALLOW_DUPLICATE_IP  [p2p] allow_duplicate_ip (default false; true
#                       when validators share an IP, as on one host)
#   COMET_LOG_LEVEL     cometbft's log level (default info)
#   COMET_PEER_WAIT     seconds to wait for the peers' host names (and the
#                       external address's) to resolve before starting the
#                       node (default 120)
#   PORTLEDGER_ARGS     more portledger flags: the execution flags, the same at
#                       every validator (--strict-events, --dcsa-version ...)
#   PORTLEDGER, COMETBFT  the binaries (default: on PATH)
set -euo pipefail

die() { echo "gba-validator: $*" >&2; exit 2; }

rpc_laddr="${COMET_RPC_LADDR:-tcp://0.0.0.0:26657}"

# `ready`: GET /status on the local RPC port.
if [ "${1:-}" = "ready" ]; then
    hostport="${rpc_laddr#tcp://}"
    port="${hostport##*:}"
    host="${hostport%:*}"
    [ "$host" = "0.0.0.0" ] && host=127.0.0.1
    exec 3<>"/dev/tcp/$host/$port" || exit 1
    printf 'GET /status HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
    answer="$(cat <&3)"
    [[ "$answer" == "HTTP/1."?" 200"* ]] || exit 1
    grep -Eq '"catching_up": *false' <<<"$answer" || exit 1
    grep -Eq '"latest_block_height": *"[1-9]' <<<"$answer" || exit 1
    exit 0
fi
[ "$#" -eq 0 ] || die "usage: gba-validator [ready]"

shared="${COMET_SHARED:-/etc/portrelay/gba-comet}"
home="${COMET_HOME:-/var/lib/portrelay/cometbft}"
app_dir="${COMET_APP_DIR:-/var/lib/portrelay/app}"
abci="${COMET_ABCI:-127.0.0.1:26658}"
p2p_laddr="${COMET_P2P_LADDR:-tcp://0.0.0.0:26656}"
portledger="${PORTLEDGER:-portledger}"
cometbft="${COMETBFT:-cometbft}"

index="${COMET_INDEX:-}"
if [ -z "$index" ]; then
    host="${HOSTNAME:-$(uname -n)}"
    index="${host##*-}"
    [[ "$index" =~ ^[0-9]+$ ]] ||
        die "COMET_INDEX is not set and the host name $host does not end in -<ordinal>"
fi
[[ "$index" =~ ^[0-9]+$ ]] || die "COMET_INDEX=$index: a validator index, 0 to N-1"

for f in genesis.json network.secret node-ids "node$index.node_key.json" "node$index.priv_validator_key.json"; do
    [ -s "$shared/$f" ] || die "$shared/$f is missing: run the init step (gba-comet-init, deploy/cometbft/init.sh) first"
done
mapfile -t ids < "$shared/node-ids"
[ "$index" -lt "${#ids[@]}" ] || die "COMET_INDEX=$index: the network has ${#ids[@]} validators (0 to $((${#ids[@]} - 1)))"

genesis_chain="$(sed -n 's/^ *"chain_id": *"\([^"]*\)".*/\1/p' "$shared/genesis.json" | head -n 1)"
chain="${COMET_CHAIN_ID:-$genesis_chain}"
[ "$chain" = "$genesis_chain" ] ||
    die "COMET_CHAIN_ID=$chain but $shared/genesis.json is of chain $genesis_chain"

# persistent_peers: the others' ID@host:port.
peers="${COMET_PEERS:-}"
if [ -z "$peers" ] && [ -n "${COMET_PEER_ADDRS:-}" ]; then
    IFS=',' read -r -a addrs <<<"$COMET_PEER_ADDRS"
    [ "${#addrs[@]}" -eq "${#ids[@]}" ] ||
        die "COMET_PEER_ADDRS has ${#addrs[@]} addresses for ${#ids[@]} validators"
    for i in "${!addrs[@]}"; do
        [ "$i" -eq "$index" ] && continue
        peers="${peers:+$peers,}${ids[$i]}@${addrs[$i]}"
    done
fi

# set_toml FILE SECTION KEY VALUE: `KEY = VALUE` in [SECTION] ("" is the
# top); fails if CometBFT's config.toml has no such key there.
set_toml() {
    awk -v s="$2" -v k="$3" -v v="$4" '
        /^\[.*\]$/ { section = substr($0, 2, length($0) - 2) }
        {
            t = $0; sub(/^[ \t]+/, "", t)
            if (section == s && index(t, k " =") == 1) { print k " = " v; found = 1; next }
            print
        }
        END { exit found ? 0 : 3 }' "$1" > "$1.new" || { rm -f "$1.new"; die "$1: no $3 in [$2]"; }
    mv "$1.new" "$1"
}

# The home: made once (config.toml, and data/priv_validator_state.json, which
# is never replaced: it keeps the validator from signing twice at a height),
# the keys and genesis copied in at every start.
umask 077
if [ ! -s "$home/config/config.toml" ]; then
    "$cometbft" init --home "$home" >/dev/null || die "cometbft init --home $home failed"
fi
cp "$shared/genesis.json" "$home/config/genesis.json"
cp "$shared/node$index.node_key.json" "$home/config/node_key.json"
cp "$shared/node$index.priv_validator_key.json" "$home/config/priv_validator_key.json"
cp "$shared/network.secret" "$home/config/network.secret"
config="$home/config/config.toml"
set_toml "$config" "" moniker "\"validator$index\""
set_toml "$config" "" proxy_app "\"tcp://$abci\""
set_toml "$config" rpc laddr "\"$rpc_laddr\""
set_toml "$config" p2p laddr "\"$p2p_laddr\""
set_toml "$config" p2p persistent_peers "\"$peers\""
set_toml "$config" p2p external_address "\"${COMET_EXTERNAL_ADDRESS:-}\""
set_toml "$config" p2p addr_book_strict false
set_toml "$config" p2p allow_duplicate_ip "${COMET_ALLOW_DUPLICATE_IP:-false}"
set_toml "$config" consensus timeout_commit "\"${COMET_TIMEOUT_COMMIT:-1s}\""
# Room for the largest transaction the application advertises (an 8 MiB
# body, about 22 MiB once a broadcast's JSON carries it): with CometBFT's
# defaults (a 1 MB request, a 1 MiB transaction) a relayer's large batch is
# refused with a bare HTTP 400. The same limits as `portrelay comet-net`.
set_toml "$config" rpc max_body_bytes 50331648
set_toml "$config" mempool max_tx_bytes 33554432
set_toml "$config" p2p send_rate 104857600
set_toml "$config" p2p recv_rate 104857600

app_pid=""
node_pid=""
stop() { # stop PID: SIGTERM and wait
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
on_signal() {
    echo "gba-validator $index: stopping (node, then application)" >&2
    stop "$node_pid"
    stop "$app_pid"
    exit 0
}
trap on_signal TERM INT

# The application first: CometBFT retries its ABCI connection only every 3 s.
mkdir -p "$app_dir"
rm -f "$app_dir/abci.addr"
# shellcheck disable=SC2086 # PORTLEDGER_ARGS is a list of flags
"$portledger" --family gba --engine cometbft --chain-id "$chain" --abci "$abci" \
    --network-secret "$home/config/network.secret" --data-dir "$app_dir" ${PORTLEDGER_ARGS:-} &
app_pid=$!
deadline=$((SECONDS + 120))
until [ -s "$app_dir/abci.addr" ]; do
    if ! kill -0 "$app_pid" 2>/dev/null; then
        wait "$app_pid" && status=0 || status=$?
        echo "gba-validator $index: portledger exited with status $status before serving ABCI" >&2
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "gba-validator $index: portledger did not serve ABCI on $abci within 120 s" >&2
        stop "$app_pid"
        exit 1
    fi
    sleep 0.2
done

# The peers' names (and this one's external address) resolve once their pods
# or containers exist; CometBFT refuses to start on one it cannot resolve.
deadline=$((SECONDS + ${COMET_PEER_WAIT:-120}))
IFS=',' read -r -a peer_list <<<"$peers"
[ -n "${COMET_EXTERNAL_ADDRESS:-}" ] && peer_list+=("$COMET_EXTERNAL_ADDRESS")
for p in "${peer_list[@]}"; do
    h="${p#*@}"
    h="${h%:*}"
    [ -n "$h" ] || continue
    [[ "$h" =~ ^[0-9.]+$ ]] && continue
    until getent hosts "$h" >/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "gba-validator $index: host $h does not resolve after ${COMET_PEER_WAIT:-120} s; starting anyway" >&2
            break
        fi
        sleep 1
    done
done

"$cometbft" node --home "$home" --log_level "${COMET_LOG_LEVEL:-info}" &
node_pid=$!
echo "gba-validator $index: chain $chain, application pid $app_pid on $abci, cometbft pid $node_pid (rpc $rpc_laddr, p2p $p2p_laddr)" >&2

# Either exits: stop the other, exit 1.
set +e
wait -n
if ! kill -0 "$app_pid" 2>/dev/null; then
    wait "$app_pid"; status=$?
    echo "gba-validator $index: portledger exited with status $status; stopping cometbft" >&2
    stop "$node_pid"
else
    wait "$node_pid"; status=$?
    echo "gba-validator $index: cometbft node exited with status $status; stopping portledger" >&2
    stop "$app_pid"
fi
exit 1
