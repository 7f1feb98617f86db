# The contract as the app developers' tools take it, sourced by scripts/contract.sh and
# run once against its first server, freshly seeded (before schemathesis changes it):
#   - openapi-spec-validator and `redocly lint` (recommended rules, clients/redocly.yaml)
#     on the spec the server serves;
#   - the TypeScript client generated from it (openapi-typescript), type-checked with the
#     holder's flow (clients/holder_flow.test.ts) and that flow run by node's test runner
#     against the server.
# The validator is installed, pinned, into target/lint-venv; the npm packages with `npm ci`
# from clients/package-lock.json into target/clients-node (again only when it changes).

SPEC_VALIDATOR_VERSION=0.9.0
LINT_VENV=target/lint-venv
CLIENTS_NODE=target/clients-node
CLIENTS_OUT=target/clients

install_client_tools() {
  if ! command -v npm >/dev/null; then
    echo "== installing nodejs and npm (apt-get; node 20 or later is needed)"
    apt-get install -y -qq nodejs npm >/dev/null
  fi
  local installed
  installed=$("$LINT_VENV/bin/pip" show openapi-spec-validator 2>/dev/null || true)
  if ! grep -q "^Version: $SPEC_VALIDATOR_VERSION$" <<<"$installed"; then
    echo "== installing openapi-spec-validator $SPEC_VALIDATOR_VERSION into $LINT_VENV"
    rm -rf "$LINT_VENV"
    "$PYTHON" -m venv "$LINT_VENV"
    "$LINT_VENV/bin/pip" install -q "openapi-spec-validator==$SPEC_VALIDATOR_VERSION"
  fi
  if ! cmp -s clients/package-lock.json "$CLIENTS_NODE/package-lock.json" || [ ! -d "$CLIENTS_NODE/node_modules" ]; then
    echo "== installing the npm packages of clients/ into $CLIENTS_NODE"
    rm -rf "$CLIENTS_NODE"
    mkdir -p "$CLIENTS_NODE"
    cp clients/package.json clients/package-lock.json "$CLIENTS_NODE/"
    (cd "$CLIENTS_NODE" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# base url; then SUPER, TERMINAL and SEED_OFFER from the seed
check_clients() {
  local base=$1 bin=$CLIENTS_NODE/node_modules/.bin
  rm -rf "$CLIENTS_OUT"
  mkdir -p "$CLIENTS_OUT"
  curl -sf "$base/openapi.yaml" -o "$CLIENTS_OUT/openapi.yaml" || return 1
  echo "== openapi-spec-validator"
  "$LINT_VENV/bin/openapi-spec-validator" "$CLIENTS_OUT/openapi.yaml" || return 1
  echo "== redocly lint (recommended rules)"
  local report
  if ! report=$("$bin/redocly" lint "$CLIENTS_OUT/openapi.yaml" --config clients/redocly.yaml 2>&1); then
    echo "$report" | grep -v '[║╔╚]' >&2
    return 1
  fi
  echo "$report" | grep -v '[║╔╚]' | tail -3
  # A warning fails too, unless .redocly.lint-ignore.yaml keeps it with its reason.
  if echo "$report" | grep -qE '[0-9]+ warnings?'; then
    echo "redocly lint warned (above): fix it, or explain it in clients/.redocly.lint-ignore.yaml" >&2
    echo "$report" | grep -v '[║╔╚]' >&2
    return 1
  fi
  echo "== the TypeScript client: generate, type-check, run the holder's flow"
  cp clients/holder_flow.test.ts clients/tsconfig.json "$CLIENTS_NODE/"
  "$bin/openapi-typescript" "$CLIENTS_OUT/openapi.yaml" -o "$CLIENTS_NODE/api.d.ts" --silent || return 1
  (cd "$CLIENTS_NODE" && rm -rf build && node_modules/.bin/tsc -p tsconfig.json) || return 1
  YJ_BASE=$base YJ_SUPER=$SUPER YJ_TERMINAL=$TERMINAL YJ_OFFER=$SEED_OFFER YJ_NEAR=22.5431,114.1182 \
    node --test "$CLIENTS_NODE/build/holder_flow.test.js"
}
