#!/usr/bin/env bash
# driftcheck pre-switch check: refuse to switch into a NixOS generation whose
# systemd units differ from the units the committed revision declares.
#
#   pre-switch-check.sh TOPLEVEL [--scope GLOB]... -- [driftcheck units flags...]
#
# TOPLEVEL is the new generation (system.preSwitchChecks get it as $1).
# Each GLOB names units the repository owns, e.g. 'ci-*'.
# Needs driftcheck and jq on PATH.
#
# Two directions, because the new generation also holds every unit nixpkgs
# itself defines:
#   - every unit the revision declares unconditionally must be in the new
#     generation (a renamed or dropped unit in the copy being built);
#   - every unit of the new generation that matches a --scope glob must be
#     declared at the revision (a unit built from an uncommitted copy).
#     Without --scope this direction is skipped: nixpkgs' own units would
#     all be undeclared.
set -euo pipefail

usage() {
  echo "usage: pre-switch-check.sh TOPLEVEL [--scope GLOB]... -- [driftcheck units flags...]" >&2
  exit 2
}
[ "$#" -ge 1 ] || usage
toplevel=$1
shift
scopes=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  [ "$1" = "--scope" ] && [ "$#" -ge 2 ] || usage
  scopes+=("$2")
  shift 2
done
[ "$#" -gt 0 ] || usage
shift # --
unitdir=$toplevel/etc/systemd/system
if [ ! -d "$unitdir" ]; then
  echo "driftcheck pre-switch: $unitdir does not exist; is $toplevel a NixOS toplevel?" >&2
  exit 1
fi

# Exit 1 (a module does not parse) and 3 (something unresolved) fail the
# check: a switch is not proven safe when the declared side is incomplete.
if ! units_json=$(driftcheck units --format json "$@"); then
  echo "driftcheck pre-switch: 'driftcheck units' failed or is incomplete; see above" >&2
  exit 1
fi

declared=$(jq -r '.units[] | select(.scope == "system") | .name' <<<"$units_json" | sort -u)
required=$(jq -r '.units[] | select(.scope == "system" and (.conditional | not)) | .name' <<<"$units_json" | sort -u)
built=$(find "$unitdir" -mindepth 1 -maxdepth 1 ! -name '*.wants' ! -name '*.requires' ! -name '*.d' \
  -printf '%f\n' | sort -u)

status=0
while IFS= read -r name; do
  [ -n "$name" ] || continue
  if ! grep -qxF -- "$name" <<<"$built"; then
    echo "driftcheck pre-switch: declared at the revision but not in the new generation: $name" >&2
    status=1
  fi
done <<<"$required"

in_scope() {
  local glob
  for glob in "${scopes[@]}"; do
    # shellcheck disable=SC2053 # the scope is a glob on purpose
    [[ $1 == $glob ]] && return 0
  done
  return 1
}
while IFS= read -r name; do
  [ -n "$name" ] || continue
  if in_scope "$name" && ! grep -qxF -- "$name" <<<"$declared"; then
    echo "driftcheck pre-switch: in the new generation but not declared at the revision: $name" >&2
    status=1
  fi
done <<<"$built"

if [ "$status" -ne 0 ]; then
  echo "driftcheck pre-switch: commit the module change (or fix the revision) first; bypass once with NIXOS_NO_CHECK=1" >&2
fi
exit "$status"
