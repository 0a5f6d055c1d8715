#!/usr/bin/env bash
# Installs what the tests need (idempotently), then runs every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-tools.sh
export AETHER_HELM="$PWD/.tools/bin/helm"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
