#!/usr/bin/env bash
# Usage: check_isa_symbols.sh ISA OBJECT...
# The per-ISA builds of engine/kernels/optimized.cc may define only internal symbols and their own
# doge::<ISA>:: entry points: a weak (COMDAT) definition of a shared inline or template function
# could be the copy the linker keeps for the whole program, and then baseline code would run
# AVX-512 instructions (engine/kernels/kernel_internal.h). Exits 1 listing the offenders.
set -euo pipefail
isa=$1
shift
bad=$(nm -C --defined-only "$@" |
  awk -v ns="doge::${isa}::" '
    NF >= 3 && $2 !~ /^[tdbrn]$/ {
      name = $0; sub(/^[0-9a-f]* +[A-Za-z] +/, "", name)
      if (index(name, ns) == 1) next                  # this ISA'"'"'s own entry points
      if (name == "DW.ref.__gxx_personality_v0") next # exception-handling data, no code
      if (name == "__clang_call_terminate") next       # clang: calls std::terminate, no SIMD
      print
    }')
if [ -n "$bad" ]; then
  echo "the $isa kernel objects define shared symbols (see kernel_internal.h):"
  echo "$bad"
  exit 1
fi
echo "the $isa kernel objects define only doge::${isa}:: entry points and internal symbols"
