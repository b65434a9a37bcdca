#!/usr/bin/env bash
# The shared files of a gba network on CometBFT, made once (docs/cometbft.md,
# "Across machines: compose and Kubernetes"). In the image: gba-comet-init.
#
# `cometbft testnet` generates the validators' keys and one genesis; this
# script keeps what the validators need, flat in one directory (so that
# `kubectl create secret generic gba-comet --from-file=DIR` takes it as it
# is), and draws the network secret:
#
#   genesis.json                     the genesis, chain_id = COMET_CHAIN_ID
#   network.secret                   144 hex digits, the same at every validator
#   node-ids                         validator i's node ID on line i+1
#   node<i>.node_key.json            validator i's p2p key
#   node<i>.priv_validator_key.json  validator i's consensus key
#
# Once: when COMET_SHARED already holds a network.secret (and the rest), it
# says so and changes nothing. Every validator here holds every key; for
# validators run by different operators, give each only its own node<i>.*.
#
# Environment:
#   COMET_SHARED      the output directory (default /etc/portrelay/gba-comet)
#   COMET_CHAIN_ID    the chain id, 1 to 50 of a-z 0-9 . _ - (default gba-1)
#   COMET_VALIDATORS  how many validators (default 4)
#   COMETBFT          the cometbft binary (default: cometbft on PATH)
set -euo pipefail

out="${COMET_SHARED:-/etc/portrelay/gba-comet}"
chain="${COMET_CHAIN_ID:-gba-1}"
n="${COMET_VALIDATORS:-4}"
cometbft="${COMETBFT:-cometbft}"

die() { echo "gba-comet-init: $*" >&2; exit 1; }

[[ "$chain" =~ ^[a-z0-9._-]{1,50}$ ]] ||
    die "COMET_CHAIN_ID=$chain: a chain id is 1 to 50 of a-z 0-9 . _ -"
[[ "$n" =~ ^[1-9][0-9]*$ ]] && [ "$n" -le 100 ] ||
    die "COMET_VALIDATORS=$n: a number of validators, 1 to 100"
version="$("$cometbft" version 2>/dev/null)" ||
    die "cannot run $cometbft: install CometBFT v0.38.17 (scripts/cometbft)"
[[ "$version" == 0.38.* ]] || die "$cometbft is CometBFT $version, not v0.38"

files=(genesis.json node-ids)
for ((i = 0; i < n; i++)); do
    files+=("node$i.node_key.json" "node$i.priv_validator_key.json")
done

if [ -s "$out/network.secret" ]; then
    for f in "${files[@]}"; do
        [ -s "$out/$f" ] || die "$out has a network.secret but no $f: remove the directory's files to start over"
    done
    have="$(wc -l < "$out/node-ids")"
    [ "$have" -eq "$n" ] || die "$out holds $have validators, not COMET_VALIDATORS=$n"
    echo "gba-comet-init: $out is initialised already (chain $(sed -n 's/^ *"chain_id": *"\([^"]*\)".*/\1/p' "$out/genesis.json" | head -n 1), $n validators); nothing changed"
    exit 0
fi

umask 077
mkdir -p "$out"
work="$(mktemp -d "$out/.init.XXXXXX")"
trap 'rm -rf "$work"' EXIT

"$cometbft" testnet --v "$n" --o "$work/net" --starting-ip-address 127.0.0.1 >/dev/null ||
    die "cometbft testnet failed"
for ((i = 0; i < n; i++)); do
    cfg="$work/net/node$i/config"
    cp "$cfg/node_key.json" "$work/node$i.node_key.json"
    cp "$cfg/priv_validator_key.json" "$work/node$i.priv_validator_key.json"
    "$cometbft" show-node-id --home "$work/net/node$i" >> "$work/node-ids"
done
# One genesis (every node's is the same) with the chain id portrelay can hold.
# A block holds at least the application's largest transaction (64 MiB;
# the same as `portrelay comet-net`'s networks).
sed -E -e 's/^( *"chain_id": *")[^"]*"/\1'"$chain"'"/' \
    -e '/^ *"block": *\{/,/\}/ s/^( *"max_bytes": *")[0-9]*"/\167108864"/' \
    "$work/net/node0/config/genesis.json" > "$work/genesis.json"
grep -q "\"chain_id\": *\"$chain\"" "$work/genesis.json" ||
    die "could not set chain_id in the generated genesis.json"
grep -q '"max_bytes": *"67108864"' "$work/genesis.json" ||
    die "could not set the block's max_bytes in the generated genesis.json"
chmod 0644 "$work/genesis.json" "$work/node-ids"
od -An -tx1 -N72 /dev/urandom | tr -d ' \n' > "$work/network.secret"
[ "$(wc -c < "$work/network.secret")" -eq 144 ] || die "could not draw the network secret"

# The secret last: its presence says the rest is complete.
for f in "${files[@]}"; do
    mv -f "$work/$f" "$out/$f"
done
mv "$work/network.secret" "$out/network.secret"
echo "gba-comet-init: wrote the genesis of chain $chain, $n validators' keys and the network secret to $out"
