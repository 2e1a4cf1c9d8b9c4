#!/usr/bin/env bash
# Make IPOPT usable from Pyomo (SolverFactory('cyipopt')) for lewie's IPOPT backend, offline.
#
#   tools/setup_ipopt.sh [PYTHON]        (default PYTHON: .venv/bin/python; `make ipopt`)
#
# Route: IPOPT 3.14 from the `cyipopt-wheels` PyPI wheel (binary, bundles IPOPT + MUMPS +
# OpenBLAS: nothing to compile) and PyNumero's ASL interface (libpynumero_ASL.so) built with
# cmake from the C++ sources shipped inside the installed Pyomo, against Debian's
# libamplsolver-dev. The library goes to <sys.prefix>/lib/pyomo/libpynumero_ASL.so, i.e. inside
# the venv; lewie.solvers.ipopt points Pyomo at it (Pyomo does not look there by itself).
# If the wheel cannot be installed, falls back to Debian's coinor-libipopt-dev (3.11) +
# `pip install cyipopt` (compiled).
#
# Idempotent: exits at once if the check passes. Needs root + apt-get only for what is missing
# (libamplsolver-dev; cmake/g++ if absent). When it cannot set IPOPT up it prints one line
# saying why and exits 0, unless CI=true or LEWIE_REQUIRE_IPOPT=1 (then it exits 1).
# Details go to <venv>/setup_ipopt.log.
set -u -o pipefail

PY=${1:-.venv/bin/python}
CYIPOPT_WHEELS_SPEC=${CYIPOPT_WHEELS_SPEC:-cyipopt-wheels==1.7.0.dev0}
START=$(date +%s.%N)
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

required() { [ "${CI:-}" = "true" ] || [ "${LEWIE_REQUIRE_IPOPT:-}" = "1" ]; }
elapsed() { awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}'; }
give_up() {  # one-line reason; fatal only when IPOPT is required
    if required; then
        echo "setup_ipopt: FAILED: $1 (see ${LOG:-log}) [$(elapsed)s]" >&2; exit 1
    fi
    echo "setup_ipopt: skipped: $1 -- the IPOPT backend stays unavailable [$(elapsed)s]"; exit 0
}

[ -x "$PY" ] || command -v "$PY" >/dev/null 2>&1 || give_up "python '$PY' not found"
PREFIX=$("$PY" -c 'import sys; print(sys.prefix)' 2>/dev/null) || give_up "python '$PY' does not run"
LIBDIR="$PREFIX/lib/pyomo"
LOG="$PREFIX/setup_ipopt.log"
echo "=== $(date -u +%FT%TZ) setup_ipopt.sh $PY" >>"$LOG" 2>/dev/null || LOG=/dev/null

# The check: cyipopt importable, a loadable libpynumero_ASL of the current interface version,
# SolverFactory('cyipopt').available(), and a real 2x2 solve. Prints "IPOPT <version>".
check() {
    LEWIE_PYNUMERO_LIB="$LIBDIR/libpynumero_ASL.so" "$PY" - <<'EOF'
import ctypes, os, sys
import pyomo.environ as pyo
from pyomo.contrib.pynumero import asl
lib = os.environ["LEWIE_PYNUMERO_LIB"]
if not asl.AmplInterface.available() and os.path.isfile(lib):
    asl.AmplInterface.libname = lib          # what lewie.solvers.ipopt does
if not asl.AmplInterface.available():
    sys.exit("no libpynumero_ASL")
ctypes.CDLL(asl.AmplInterface.libname)
import cyipopt
assert pyo.SolverFactory("cyipopt").available(), "SolverFactory('cyipopt') unavailable"
m = pyo.ConcreteModel()
m.x = pyo.Var(initialize=1.0); m.y = pyo.Var(initialize=1.0)
m.a = pyo.Constraint(expr=pyo.exp(m.x) + m.y == 1 + 2.0)
m.b = pyo.Constraint(expr=m.x * m.y - m.y == -2.0)
m.o = pyo.Objective(expr=0.0)
res = pyo.SolverFactory("cyipopt").solve(m, options={"tol": 1e-10, "print_level": 0, "sb": "yes"})
assert str(res.solver.termination_condition) == "optimal", res.solver.termination_condition
assert abs(m.x.value) < 1e-8 and abs(m.y.value - 2.0) < 1e-8, (m.x.value, m.y.value)
if asl.AmplInterface.interface_version not in (None, asl.CURRENT_INTERFACE_VERSION):
    sys.exit("stale libpynumero_ASL (interface version %s)" % asl.AmplInterface.interface_version)
v = getattr(cyipopt, "IPOPT_VERSION", None)
print("IPOPT", ".".join(map(str, v)) if isinstance(v, tuple) else "(cyipopt %s)" % cyipopt.__version__)
EOF
}

if OUT=$(check 2>>"$LOG"); then
    echo "setup_ipopt: already set up: $OUT via cyipopt, $LIBDIR/libpynumero_ASL.so [$(elapsed)s]"
    exit 0
fi
echo "== initial check failed; setting up" >>"$LOG"

# ---- Debian packages (only what is missing) ------------------------------------------------
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
ASL_INCLUDE_DIR=${ASL_INCLUDE_DIR:-/usr/include/ampl-netlib-solvers}
ASL_LIBRARY=${ASL_LIBRARY:-/usr/lib/$MULTIARCH/libamplsolver.so}
APT_UPDATED=0
can_apt() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; }
apt_install() {  # apt_install PKG...: install, running `apt-get update` once if needed
    can_apt || return 1
    local a=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
    echo "== apt-get install $*" >>"$LOG"
    if ! apt-get install "${a[@]}" "$@" >>"$LOG" 2>&1; then
        [ "$APT_UPDATED" = 1 ] && return 1
        APT_UPDATED=1
        apt-get update -q -o DPkg::Lock::Timeout=300 >>"$LOG" 2>&1 || return 1
        apt-get install "${a[@]}" "$@" >>"$LOG" 2>&1 || return 1
    fi
}
NEED=()
{ [ -f "$ASL_INCLUDE_DIR/asl_pfgh.h" ] && [ -e "$ASL_LIBRARY" ]; } || NEED+=(libamplsolver-dev)
command -v g++ >/dev/null 2>&1 || NEED+=(g++ make)
if [ ${#NEED[@]} -gt 0 ]; then
    can_apt || give_up "needs ${NEED[*]} but not root with apt-get (install them, or run as root)"
    apt_install "${NEED[@]}" || give_up "apt-get install ${NEED[*]} failed"
fi

# ---- cyipopt (IPOPT) into the venv ----------------------------------------------------------
if ! "$PY" -c 'import cyipopt' >>"$LOG" 2>&1; then
    echo "== pip install $CYIPOPT_WHEELS_SPEC" >>"$LOG"
    if ! "$PY" -m pip install -q "$CYIPOPT_WHEELS_SPEC" >>"$LOG" 2>&1; then
        # Fallback: Debian's IPOPT 3.11 + the official cyipopt, compiled against it.
        echo "== wheel failed; Debian route" >>"$LOG"
        apt_install coinor-libipopt-dev liblapack-dev libblas-dev pkg-config \
            || give_up "no cyipopt-wheels wheel and cannot apt-get coinor-libipopt-dev"
        "$PY" -m pip install -q cyipopt >>"$LOG" 2>&1 || give_up "pip install cyipopt failed"
    fi
fi

# ---- libpynumero_ASL from the installed Pyomo's sources -----------------------------------
SRC=$("$PY" -c 'import os, pyomo.contrib.pynumero as p; print(os.path.join(os.path.dirname(p.__file__), "src"))' 2>>"$LOG") \
    || give_up "Pyomo is not installed in $PREFIX"
[ -f "$SRC/CMakeLists.txt" ] || give_up "no PyNumero sources at $SRC"
CMAKE=$(command -v cmake || true)
if [ -z "$CMAKE" ]; then
    if can_apt && apt_install cmake; then CMAKE=$(command -v cmake)
    else
        "$PY" -m pip install -q cmake >>"$LOG" 2>&1 || give_up "no cmake (apt or pip)"
        CMAKE="$PREFIX/bin/cmake"
    fi
fi
BUILD=$(mktemp -d "${TMPDIR:-/tmp}/pynumero-build.XXXXXX")
trap 'rm -rf "$BUILD"' EXIT
echo "== cmake $SRC -> $BUILD" >>"$LOG"
"$CMAKE" -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DASL_INCLUDE_DIR="$ASL_INCLUDE_DIR" -DASL_LIBRARY="$ASL_LIBRARY" \
    -DBUILD_AMPLASL=OFF -DBUILD_AMPLASL_IF_NEEDED=OFF -DENABLE_HSL=OFF >>"$LOG" 2>&1 \
    || give_up "cmake configure of PyNumero failed"
"$CMAKE" --build "$BUILD" --target pynumero_ASL -j "$(nproc 2>/dev/null || echo 2)" >>"$LOG" 2>&1 \
    || give_up "building libpynumero_ASL failed"
mkdir -p "$LIBDIR" && install -m 0755 "$BUILD/libpynumero_ASL.so" "$LIBDIR/libpynumero_ASL.so" \
    || give_up "cannot write $LIBDIR"

# ---- verify ---------------------------------------------------------------------------------
echo "== final check" >>"$LOG"
OUT=$(check 2>>"$LOG") || give_up "IPOPT still not usable after set-up"
echo "setup_ipopt: ready: $OUT via cyipopt, $LIBDIR/libpynumero_ASL.so [$(elapsed)s]"
