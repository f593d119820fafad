"""Linear mixed models fitted to the REML (or ML) optimum, with the optimizer that got there.

statsmodels' ``MixedLM`` can stop short of the optimum and still report convergence (on the
supervisors' data ``lbfgs`` stops at a log-likelihood 0.07 below the one the other optimizers
reach when a variance component lies on the boundary). :func:`fit_mixed_model` therefore fits
the same model with each optimizer of a list and keeps the fit with the highest
log-likelihood, recording which optimizer won, whether statsmodels called that fit converged,
and every warning it raised. A variance component estimated at zero is a *boundary* result
(the model is still valid: the component explains nothing), reported by
:func:`boundary_components`, never treated as an error.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: Optimizers of ``MixedLM.fit`` tried by default, in this order (ties keep the first).
DEFAULT_OPTIMIZERS: tuple[str, ...] = ("lbfgs", "bfgs", "cg", "nm", "powell")

#: A variance component below this fraction of the residual variance counts as zero: the
#: optimizers stop between 1e-11 and 1e-7 of the residual variance when the REML optimum lies
#: on the boundary, while any component that matters in practice is many orders larger.
BOUNDARY_RELATIVE = 1e-6


#: statsmodels warns "The MLE may be on the boundary of the parameter space." whenever a
#: variance is below 0.01 in the data's own units, whatever their scale; :func:`fit_mixed_model`
#: replaces that heuristic by the relative check of :func:`boundary_components`.
STATSMODELS_BOUNDARY_HEURISTIC = "The MLE may be on the boundary of the parameter space."


@dataclass(frozen=True)
class MixedFit:
    """The best fit of one model over several optimizers.

    ``result`` is the statsmodels results object of the winning fit (None when no optimizer
    gave a finite log-likelihood), ``optimizer`` its method, ``loglik`` its (REML or ML)
    log-likelihood, ``converged`` statsmodels' own convergence flag of that fit, ``boundary``
    the variance components estimated at zero, ``warnings`` the distinct warning messages
    raised while fitting it (and a ``boundary: ...`` note per zero component), and
    ``attempts`` per optimizer its log-likelihood and convergence flag.
    """

    result: object | None
    optimizer: str | None
    loglik: float
    converged: bool
    warnings: tuple[str, ...]
    attempts: tuple[tuple[str, float, bool], ...]
    boundary: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.result is not None


def _message(warning: warnings.WarningMessage) -> str:
    text = str(warning.message).strip()
    return text.splitlines()[0] if text else type(warning.message).__name__


def _distinct(messages: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(messages))


def fit_mixed_model(model, *, reml: bool = True, optimizers: Sequence[str] = DEFAULT_OPTIMIZERS) -> MixedFit:
    """Fit a statsmodels ``MixedLM`` with every optimizer and keep the highest log-likelihood.

    A fit counts only when its log-likelihood and fixed effects are finite (a failed
    Nelder-Mead run can report ``llf = inf``). Among the fits that count, the one with the
    highest log-likelihood wins; exact ties keep the optimizer listed first, so the choice is
    deterministic. When no optimizer gives a usable fit, the result is empty and the warnings
    say why: the caller reports missing estimates, never an exception.
    """
    if not optimizers:
        raise ValueError("at least one optimizer is needed")
    best = None
    attempts = []
    failures = []
    for method in optimizers:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = model.fit(reml=reml, method=method)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
                failures.append(f"optimizer {method} failed: {str(exc).strip() or type(exc).__name__}")
                attempts.append((method, math.nan, False))
                continue
        llf = float(result.llf)
        converged = bool(getattr(result, "converged", False))
        attempts.append((method, llf, converged))
        if not (math.isfinite(llf) and np.all(np.isfinite(np.asarray(result.fe_params, dtype=float)))):
            failures.append(f"optimizer {method} gave no finite log-likelihood")
            continue
        if best is None or llf > best[1]:
            best = (result, llf, method, converged, [_message(w) for w in caught])
    if best is None:
        return MixedFit(None, None, math.nan, False, _distinct(failures), tuple(attempts))
    result, llf, method, converged, messages = best
    zero = tuple(boundary_components(result))
    messages = [m for m in messages if m != STATSMODELS_BOUNDARY_HEURISTIC]
    messages += [f"boundary: {name} variance estimated at 0" for name in zero]
    return MixedFit(result, method, llf, converged, _distinct(messages), tuple(attempts), zero)


def boundary_components(result, *, relative: float = BOUNDARY_RELATIVE) -> list[str]:
    """Names of the variance components of a fitted ``MixedLM`` estimated at zero.

    A component counts as zero when it is below ``relative`` times the residual variance.
    The diagonal of the random-effects covariance is named by its columns (statsmodels names
    the random intercept after the ``groups`` column, or ``Group``), variance components by
    their ``vc_formula`` names.
    """
    scale = float(result.scale)
    names = []
    cov_re = np.asarray(result.cov_re, dtype=float)
    labels = list(getattr(result.cov_re, "columns", range(cov_re.shape[0])))
    for i, label in enumerate(labels):
        if cov_re[i, i] < relative * scale:
            names.append(str(label))
    exog_vc = getattr(result.model, "exog_vc", None)
    vc_names = list(getattr(exog_vc, "names", []) or [])
    for name, value in zip(vc_names, np.atleast_1d(np.asarray(result.vcomp, dtype=float))):
        if value < relative * scale:
            names.append(str(name))
    return names


def fixed_effects_covariance(fit: MixedFit) -> np.ndarray:
    """Covariance of the fixed effects, sigma^2 (X' V^-1 X)^-1 at the estimated variances.

    This is the conventional model-based covariance of lme4, SAS PROC MIXED and Stata. The
    covariance statsmodels reports inverts the whole Hessian, cross terms between fixed effects
    and variance parameters included; under REML (where the fixed effects are not parameters
    of the restricted likelihood) and with unbalanced data (drop-out) that gives standard
    errors about 1% away from the conventional ones (identical for balanced data). The fixed
    block of statsmodels' Hessian is -(X' V^-1 X) / sigma^2 whatever the method, so its inverse
    is the conventional covariance.
    """
    if not fit.ok:
        raise ValueError("the model has no usable fit")
    result = fit.result
    k_fe = int(result.model.k_fe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hessian, _ = result.model.hessian(result.params_object)
    return np.linalg.inv(-hessian[:k_fe, :k_fe])
