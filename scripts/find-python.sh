#!/usr/bin/env bash
# Prints the interpreter `make` should build the venv with: $PYTHON if set, else the newest
# Python >= 3.12 found on PATH or under pyenv. Prints nothing when there is none.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

if [ -n "${PYTHON:-}" ]; then
  if ok "$PYTHON"; then echo "$PYTHON"; fi
  exit 0
fi

candidates=()
for v in 3.15 3.14 3.13 3.12; do
  command -v "python$v" >/dev/null 2>&1 && candidates+=("$(command -v "python$v")")
done
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
if [ -d "$pyenv_root/versions" ]; then
  while IFS= read -r dir; do
    [ -x "$dir/bin/python3" ] && candidates+=("$dir/bin/python3")
  done < <(ls -d "$pyenv_root"/versions/3.* 2>/dev/null | sort -t. -k2,2n -k3,3n -r)
fi
command -v python3 >/dev/null 2>&1 && candidates+=("$(command -v python3)")

best="" best_version=0
for c in "${candidates[@]}"; do
  ok "$c" || continue
  v=$("$c" -c 'import sys; print(sys.version_info[0] * 10000 + sys.version_info[1] * 100 + sys.version_info[2])')
  if [ "$v" -gt "$best_version" ]; then best="$c" best_version=$v; fi
done
echo "$best"
