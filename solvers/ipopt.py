"""IPOPT backend: solves the square LEWIE system with IPOPT through Pyomo's standard interfaces.

Two routes, tried in this order:

1. ``SolverFactory('ipopt')`` -- an ``ipopt`` (AMPL) executable on PATH, if there is one.
2. ``SolverFactory('cyipopt')`` -- the in-process cyipopt interface. It needs the ``cyipopt``
   Python package (we use the ``cyipopt-wheels`` wheel, which bundles IPOPT 3.14) and
   PyNumero's compiled ASL interface, ``libpynumero_ASL.so``.

``tools/setup_ipopt.sh`` (``make ipopt``) installs route 2: it builds ``libpynumero_ASL.so``
against Debian's ``libamplsolver-dev`` and puts it in the virtualenv, at
``<sys.prefix>/lib/pyomo/libpynumero_ASL.so``, so that nothing outside the repository's ``.venv``
is written. Pyomo does not search there by itself, so this module points PyNumero at it
(``AmplInterface.libname``) unless Pyomo already finds a library of its own (in
``PYOMO_CONFIG_DIR/lib``, ``LD_LIBRARY_PATH`` ...). ``LEWIE_PYNUMERO_ASL`` may name the file
explicitly.

The model is square with no objective. Pyomo's NLP interfaces want exactly one active objective,
so a constant one is added under a private name for the solve and deleted afterwards (any
objective the model already has is deactivated meanwhile and reactivated). Pyomo's own
"temporary objective" in the cyipopt interface is not enough: it deletes it before reading it
back and then fails with StopIteration.
"""
from __future__ import annotations

import ctypes
import io
import logging
import math
import os
import re
import shutil
import sys
import tempfile

from lewie.solvers.base import Backend, BackendInfo, SolveResult, SolverStatus

_SETUP_HINT = ("run `make ipopt` / tools/setup_ipopt.sh "
               "(needs root + apt for libamplsolver-dev, and pip for cyipopt-wheels)")
_LIBNAME = "libpynumero_ASL.so"

_probe_cache: dict | None = None


def venv_pynumero_lib() -> str:
    """Where tools/setup_ipopt.sh installs PyNumero's ASL interface for this interpreter."""
    return os.path.join(sys.prefix, "lib", "pyomo", _LIBNAME)


def configure_pynumero() -> str | None:
    """Point PyNumero at a usable libpynumero_ASL and return its path (None if there is none).

    Pyomo's own search (PYOMO_CONFIG_DIR/lib, LD_LIBRARY_PATH, PATH) wins; then
    ``$LEWIE_PYNUMERO_ASL``; then the virtualenv's copy. The library is loaded with ctypes to
    make sure its dependencies (the system's libamplsolver) resolve.
    """
    try:
        from pyomo.contrib.pynumero.asl import AmplInterface
    except Exception:  # noqa: BLE001 - numpy-less or broken Pyomo: simply unavailable
        return None
    candidates = []
    try:
        if AmplInterface.available():
            candidates.append(AmplInterface.libname)
    except Exception:  # noqa: BLE001
        pass
    env = os.environ.get("LEWIE_PYNUMERO_ASL")
    if env:
        candidates.append(env)
    candidates.append(venv_pynumero_lib())
    for path in candidates:
        if path and os.path.isfile(path):
            try:
                ctypes.CDLL(path)
            except OSError:
                continue
            if AmplInterface.libname != path and AmplInterface.ASLib is None:
                AmplInterface.libname = path
            return AmplInterface.libname
    return None


def _probe(refresh: bool = False) -> dict:
    """Find a usable IPOPT route once per process: {'route', 'version', 'reason'}."""
    global _probe_cache
    if _probe_cache is not None and not refresh:
        return _probe_cache
    found = {"route": None, "version": "", "reason": ""}
    missing = []
    try:
        import pyomo.environ as pyo

        # Route 1: an ipopt executable on PATH.
        try:
            if shutil.which("ipopt"):
                exe = pyo.SolverFactory("ipopt")
                if exe.available(exception_flag=False):
                    found["route"] = "ipopt"
                    try:
                        found["version"] = ".".join(str(v) for v in exe.version())
                    except Exception:  # noqa: BLE001
                        found["version"] = "unknown"
        except Exception:  # noqa: BLE001
            pass
        # Route 2: cyipopt + PyNumero's ASL interface.
        if found["route"] is None:
            try:
                import cyipopt  # noqa: F401
                have_cyipopt = True
            except Exception:  # noqa: BLE001
                have_cyipopt = False
                missing.append("the cyipopt package (pip install cyipopt-wheels)")
            lib = configure_pynumero()
            if lib is None:
                missing.append(f"PyNumero's {_LIBNAME} (not in Pyomo's search path "
                               f"nor at {venv_pynumero_lib()})")
            if have_cyipopt and lib is not None:
                if pyo.SolverFactory("cyipopt").available(exception_flag=False):
                    found["route"] = "cyipopt"
                    ver = getattr(cyipopt, "IPOPT_VERSION", None)
                    if isinstance(ver, tuple):
                        found["version"] = ".".join(str(v) for v in ver)
                    else:
                        found["version"] = f"unknown (cyipopt {getattr(cyipopt, '__version__', '?')})"
                else:
                    missing.append("a working SolverFactory('cyipopt')")
    except Exception as exc:  # noqa: BLE001
        missing.append(f"Pyomo ({exc})")
    if found["route"] is None:
        found["reason"] = ("no ipopt executable on PATH and no cyipopt route: missing "
                           + "; ".join(missing or ["?"]) + f"; {_SETUP_HINT}")
    _probe_cache = found
    return found


def _max_residual(model) -> float:
    """Largest absolute violation of the model's active constraints at the current values."""
    import pyomo.environ as pyo

    worst = 0.0
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        try:
            body = pyo.value(con.body, exception=False)
        except Exception:  # noqa: BLE001
            return float("nan")
        if body is None or not math.isfinite(body):
            return float("nan")
        lb = pyo.value(con.lower) if con.has_lb() else None
        ub = pyo.value(con.upper) if con.has_ub() else None
        viol = 0.0
        if lb is not None and body < lb:
            viol = lb - body
        if ub is not None and body > ub:
            viol = max(viol, body - ub)
        worst = max(worst, viol)
    return worst


_ITER_RE = re.compile(r"Number of Iterations\.*:\s*(\d+)")


def _map_termination(tc_name: str) -> SolverStatus:
    converged = {"optimal", "locallyOptimal", "globallyOptimal", "feasible"}
    if tc_name in converged:
        return SolverStatus.CONVERGED
    if tc_name in {"maxIterations", "maxTimeLimit", "maxEvaluations"}:
        return SolverStatus.ITERATION_LIMIT
    if tc_name in {"unbounded", "infeasible", "minStepLength", "noSolution",
                   "locallyInfeasible", "other"}:
        return SolverStatus.DIVERGED
    if tc_name == "solverFailure":  # IPOPT's Error_In_Step_Computation: KKT matrix unfactorisable
        return SolverStatus.SINGULAR_JACOBIAN
    return SolverStatus.ERROR


class IpoptBackend(Backend):
    """IPOPT through Pyomo (`ipopt` executable, else `cyipopt`): a cross-check of the fast path."""

    name = "ipopt"
    capabilities = ("square-system", "cross-check", "batched (member by member)")

    def __init__(self, **extra_options):
        #: further IPOPT options, e.g. linear_solver="mumps"; they override the defaults
        self.extra_options = dict(extra_options)

    @classmethod
    def info(cls) -> BackendInfo:
        try:
            p = _probe()
        except Exception as exc:  # noqa: BLE001 - info never raises
            return BackendInfo(cls.name, False, "", cls.capabilities,
                               f"probe failed: {exc}; {_SETUP_HINT}")
        if p["route"] is None:
            return BackendInfo(cls.name, False, "", cls.capabilities, p["reason"])
        return BackendInfo(cls.name, True, f"{p['version']} (via {p['route']})",
                           cls.capabilities)

    def _options(self, tol: float, max_iter: int, log_file: str) -> dict:
        opts = {
            "tol": tol,
            "constr_viol_tol": tol,
            # "acceptable" termination must still mean a feasible point of the square system
            "acceptable_tol": max(tol, 1e-14),
            "acceptable_constr_viol_tol": tol,
            "max_iter": int(max_iter),
            "print_level": 0,
            "sb": "yes",
            "output_file": log_file,
            "file_print_level": 5,
        }
        opts.update(self.extra_options)
        return opts

    def solve(self, model, *, tol: float = 1e-10, max_iter: int = 100) -> SolveResult:
        probe = _probe()
        route = probe["route"]
        if route is None:
            return SolveResult(SolverStatus.UNAVAILABLE, message=probe["reason"], solver=self.name)

        import pyomo.environ as pyo
        from pyomo.common.log import LoggingIntercept
        from pyomo.common.modeling import unique_component_name
        from pyomo.common.tee import capture_output

        captured = io.StringIO()
        details: dict = {"route": route, "ipopt_version": probe["version"]}
        iters = {"n": 0}
        status, message = SolverStatus.ERROR, ""

        def _callback(nlp, problem, alg_mod, iter_count, obj_value, inf_pr, inf_du, mu,
                      d_norm, regularization_size, alpha_du, alpha_pr, ls_trials):
            iters["n"] = max(iters["n"], int(iter_count))  # Pyomo's 13-argument form
            return True

        saved_objs = [o for o in model.component_data_objects(pyo.Objective, active=True)]
        objname = unique_component_name(model, "_lewie_ipopt_objective")
        with tempfile.TemporaryDirectory(prefix="lewie-ipopt-") as tmp:
            log_file = os.path.join(tmp, "ipopt.log")
            options = self._options(tol, max_iter, log_file)
            try:
                for o in saved_objs:
                    o.deactivate()
                model.add_component(objname, pyo.Objective(expr=0.0))
                with capture_output(captured, capture_fd=True), \
                        LoggingIntercept(captured, "pyomo", logging.WARNING):
                    if route == "cyipopt":
                        solver = pyo.SolverFactory("cyipopt")
                        results = solver.solve(model, tee=False, options=options,
                                               intermediate_callback=_callback)
                    else:
                        solver = pyo.SolverFactory("ipopt")
                        results = solver.solve(model, tee=False, options=options,
                                               load_solutions=False)
                        if len(results.solution) > 0:
                            try:
                                model.solutions.load_from(results)
                            except Exception as exc:  # noqa: BLE001 - bad status: no solution
                                details["load_error"] = str(exc)
                tc = str(results.solver.termination_condition)
                tc = getattr(results.solver.termination_condition, "name", tc)
                status = _map_termination(tc)
                msg = results.solver.message or tc
                message = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
                details["termination_condition"] = tc
            except Exception as exc:  # noqa: BLE001 - never raise on solver failure
                status = SolverStatus.ERROR
                message = f"{type(exc).__name__}: {exc}"
            finally:
                if model.component(objname) is not None:
                    model.del_component(objname)
                for o in saved_objs:
                    o.activate()
            try:
                with open(log_file, encoding="utf-8", errors="replace") as fh:
                    log = fh.read()
            except OSError:
                log = ""
        m = _ITER_RE.search(log)
        iterations = int(m.group(1)) if m else iters["n"]
        details["log"] = (captured.getvalue() + log)[-20000:]
        try:
            residual = _max_residual(model)
        except Exception:  # noqa: BLE001
            residual = float("nan")
        if status is SolverStatus.CONVERGED and not (residual <= max(tol, 1e-12) * 10):
            # IPOPT's tolerances are on its (scaled) problem; say so, the caller verifies anyway
            details["warning"] = f"IPOPT converged but max residual is {residual:.3g}"
        return SolveResult(status=status, iterations=iterations, max_residual=residual,
                           message=message, solver=self.name, details=details)
