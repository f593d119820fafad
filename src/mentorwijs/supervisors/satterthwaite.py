"""Satterthwaite degrees of freedom for contrasts of a linear mixed model, as lmerTest computes them.

For a contrast c of the fixed effects with variance ``v = c' C(phi) c`` (C the model-based
covariance of the fixed effects, sigma^2 (X' V^-1 X)^-1), Satterthwaite's approximation is

    df = 2 v^2 / (g' A g),      g_i = c' (dC / dphi_i) c,

with ``phi`` the variance parameters and ``A`` their asymptotic covariance. This module follows
lmerTest (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw 82(13); ``as_lmerModLT`` and
``contest1D`` of lmerTest 3.1) in every choice that matters:

- ``phi = (theta, sigma)``: lme4's relative covariance factor (per random-effect term the
  lower-triangular Cholesky factor of its covariance divided by sigma^2, column by column; per
  variance component its SD over sigma) and the residual SD sigma;
- ``A = 2 H^+``, with H the Hessian of the REML deviance (-2 log restricted likelihood, *not*
  profiled over sigma) in ``phi`` at the estimate, inverted through its eigenvalues above 1e-8
  (the Moore-Penrose inverse lmerTest uses);
- dC/dphi and H are numerical (here central differences with Richardson extrapolation, as
  numDeriv's ``jacobian``/``hessian``; both are smooth functions evaluated exactly).

At an interior optimum the result does not depend on the parameterisation. On the boundary
(a Cholesky diagonal element at 0) it does: there dC/dtheta is 0 for that element, so the
boundary component is treated as known (zero), exactly as lmerTest does; the caller reports the
boundary. When H has an eigenvalue below -1e-8 (no optimum) or the variance of the contrast is
not positive, :func:`satterthwaite_df` returns NaN with a reason, and the caller falls back.

The REML deviance is computed from the cross-products of each independent block (the ``groups``
of statsmodels' MixedLM; Woodbury's identity, all blocks at once): with
M_j = I + Z_j Lambda_j Lambda_j' Z_j' (Z_j the random-effects design of block j: its ``exog_re``
columns and the indicator columns of every variance component),

    dev = log|M| + log|X' M^-1 X| + r' M^-1 r / sigma^2 + (n - p) log(2 pi sigma^2),

r = y - X beta(theta) at the generalised least-squares beta; this equals lme4's REML deviance
(``devfun_vp`` of lmerTest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: lmerTest's tolerance on the Hessian's eigenvalues (``as_lmerModLT(tol = 1e-8)``).
EIGEN_TOLERANCE = 1e-8


class RemlDeviance:
    """The REML deviance and the fixed effects' covariance of a statsmodels ``MixedLM`` model,
    as functions of lme4's variance parameters ``phi = (theta, sigma)``."""

    def __init__(self, model):
        self.k_re = int(model.k_re)
        self.k_vc = int(model.k_vc)
        self.n = int(model.n_totobs)
        self.p = int(model.k_fe)
        self.vc_names = list(getattr(model.exog_vc, "names", []) or [])
        # y is centred when the columns of X span the constant (an intercept): the deviance and
        # the covariance do not change, beta shifts by mean(y) * a (X a = 1), and y'M^-1 y loses
        # the large common part that would otherwise cancel in the residual sum of squares.
        x_all = np.asarray(model.exog, dtype=float)
        ones = np.ones(len(x_all))
        a = np.linalg.lstsq(x_all, ones, rcond=None)[0]
        centred = bool(np.allclose(x_all @ a, ones, atol=1e-10))
        self._shift = float(np.mean(model.endog)) * a if centred else np.zeros(self.p)
        shift = float(np.mean(model.endog)) if centred else 0.0
        xtx = np.zeros((self.p, self.p))
        xty = np.zeros(self.p)
        yty = 0.0
        pieces = []
        for j, _ in enumerate(model.group_labels):
            y = np.asarray(model.endog_li[j], dtype=float) - shift
            x = np.asarray(model.exog_li[j], dtype=float)
            z_re = np.asarray(model.exog_re_li[j], dtype=float) if self.k_re else np.zeros((len(y), 0))
            z_vc = [np.asarray(model.exog_vc.mats[k][j], dtype=float) for k in range(self.k_vc)]
            z = np.hstack([z_re, *z_vc])
            owner = np.concatenate([np.full(m.shape[1], k) for k, m in enumerate(z_vc)] or [np.zeros(0, dtype=int)])
            pieces.append((z.T @ z, z.T @ np.column_stack([x, y]), owner.astype(int)))
            xtx += x.T @ x
            xty += x.T @ y
            yty += float(y @ y)
        self._cross = (xtx, xty, yty)
        # blocks padded to the same width q and stacked: a padded column of Z is 0, so it adds
        # 1 to the diagonal of A and nothing else
        q = max((ztz.shape[0] for ztz, _, _ in pieces), default=self.k_re)
        self._ztz = np.zeros((len(pieces), q, q))
        self._ztw = np.zeros((len(pieces), q, self.p + 1))
        self._owner = np.full((len(pieces), q - self.k_re), self.k_vc, dtype=int)  # k_vc: padding
        for j, (ztz, ztw, owner) in enumerate(pieces):
            w = ztz.shape[0]
            self._ztz[j, :w, :w] = ztz
            self._ztw[j, :w] = ztw
            self._owner[j, : len(owner)] = owner
        self._tril = np.tril_indices(self.k_re)
        # lme4 orders theta column by column: (l11, l21, ..., l22, ...)
        order = sorted(range(len(self._tril[0])), key=lambda i: (self._tril[1][i], self._tril[0][i]))
        self._tril = (self._tril[0][order], self._tril[1][order])

    def phi_from_result(self, result) -> np.ndarray:
        """``(theta, sigma)`` of a fitted ``MixedLMResults`` (absolute ``cov_re``, ``vcomp``, ``scale``)."""
        scale = float(result.scale)
        relative = np.asarray(result.cov_re, dtype=float).reshape(self.k_re, self.k_re) / scale
        factor = _cholesky_psd(relative)
        vc = np.atleast_1d(np.asarray(result.vcomp, dtype=float))[: self.k_vc] / scale
        return np.concatenate([factor[self._tril], np.sqrt(np.clip(vc, 0.0, None)), [math.sqrt(scale)]])

    def _factor(self, theta: np.ndarray) -> np.ndarray:
        factor = np.zeros((self.k_re, self.k_re))
        factor[self._tril] = theta[: len(self._tril[0])]
        return factor

    def _pieces(self, phi: np.ndarray):
        """sigma, X' M^-1 X, X' M^-1 y, y' M^-1 y and log|M|, with M = I + Z Lambda Lambda' Z'.

        By the Woodbury identity, per block with A = I + Lambda' Z'Z Lambda:
        log|M| = log|A| and X' M^-1 X = X'X - (Lambda' Z'X)' A^-1 (Lambda' Z'X), so only the
        blocks' cross-products are needed.
        """
        phi = np.asarray(phi, dtype=float)
        theta, sigma = phi[:-1], float(phi[-1])
        factor = self._factor(theta)
        vc = theta[len(self._tril[0]):]
        xtx, xty, yty = self._cross
        blocks, q = self._ztz.shape[:2]
        lam = np.zeros((blocks, q, q))
        lam[:, : self.k_re, : self.k_re] = factor
        diagonal = np.append(vc, 0.0)[self._owner]
        index = np.arange(self.k_re, q)
        lam[:, index, index] = diagonal
        a = np.transpose(lam, (0, 2, 1)) @ self._ztz @ lam
        a[:, np.arange(q), np.arange(q)] += 1.0
        chol = np.linalg.cholesky(a)
        logdet = 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
        u = np.linalg.solve(chol, np.transpose(lam, (0, 2, 1)) @ self._ztw)
        ux, uy = u[:, :, :-1], u[:, :, -1]
        xtx = xtx - np.einsum("gqi,gqj->ij", ux, ux)
        xty = xty - np.einsum("gqi,gq->i", ux, uy)
        yty = yty - float(np.einsum("gq,gq->", uy, uy))
        return sigma, xtx, xty, yty, logdet

    def deviance(self, phi: np.ndarray) -> float:
        """REML deviance (lme4's ``devfun_vp`` with ``reml = TRUE``)."""
        sigma, xtx, xty, yty, logdet = self._pieces(phi)
        chol = np.linalg.cholesky(xtx)
        beta = np.linalg.solve(xtx, xty)
        rss = yty - float(beta @ xty)
        s2 = sigma * sigma
        return (logdet + 2.0 * float(np.sum(np.log(np.diag(chol)))) + rss / s2
                + (self.n - self.p) * math.log(2 * math.pi * s2))

    def profiled(self, theta: np.ndarray) -> float:
        """REML deviance with sigma at its optimum for ``theta`` (what lme4 minimises)."""
        sigma, xtx, xty, yty, logdet = self._pieces(np.append(theta, 1.0))
        chol = np.linalg.cholesky(xtx)
        beta = np.linalg.solve(xtx, xty)
        rss = yty - float(beta @ xty)
        df = self.n - self.p
        return logdet + 2.0 * float(np.sum(np.log(np.diag(chol)))) + df * (1.0 + math.log(2 * math.pi * rss / df))

    def fixed(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fixed effects (GLS) and their covariance sigma^2 (X' M^-1 X)^-1 at ``phi``."""
        sigma, xtx, xty, _, _ = self._pieces(phi)
        inverse = np.linalg.inv(xtx)
        return inverse @ xty + self._shift, sigma * sigma * inverse

    def covariance(self, phi: np.ndarray) -> np.ndarray:
        return self.fixed(phi)[1]

    def sigma_at(self, theta: np.ndarray) -> float:
        _, xtx, xty, yty, _ = self._pieces(np.append(theta, 1.0))
        rss = yty - float(np.linalg.solve(xtx, xty) @ xty)
        return math.sqrt(rss / (self.n - self.p))

    def variances(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Absolute random-effects covariance, variance components and residual variance."""
        phi = np.asarray(phi, dtype=float)
        s2 = float(phi[-1]) ** 2
        factor = self._factor(phi[:-1])
        return s2 * factor @ factor.T, s2 * np.square(phi[len(self._tril[0]):-1]), s2

    def lower_bounds(self) -> list[float | None]:
        """Bounds of theta in lme4: 0 for the diagonal of each factor, none off it."""
        bounds: list[float | None] = [0.0 if i == j else None for i, j in zip(*self._tril)]
        return bounds + [0.0] * self.k_vc


def _cholesky_psd(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor with non-negative diagonal, also of a singular covariance."""
    k = matrix.shape[0]
    factor = np.zeros_like(matrix)
    for j in range(k):
        d = matrix[j, j] - float(factor[j, :j] @ factor[j, :j])
        factor[j, j] = math.sqrt(d) if d > 0 else 0.0
        for i in range(j + 1, k):
            value = matrix[i, j] - float(factor[i, :j] @ factor[j, :j])
            factor[i, j] = value / factor[j, j] if factor[j, j] > 0 else 0.0
    return factor


def _steps(x: np.ndarray, relative: float) -> np.ndarray:
    return relative * np.maximum(np.abs(x), 0.1)


def richardson_hessian(f, x: np.ndarray, *, relative: float = 1e-2, levels: int = 3) -> np.ndarray:
    """Hessian by central differences with Richardson extrapolation over steps h, h/2, h/4."""
    x = np.asarray(x, dtype=float)
    k = len(x)
    base = _steps(x, relative)
    f0 = f(x)
    estimates = []
    for level in range(levels):
        h = base / 2**level
        hess = np.zeros((k, k))
        for i in range(k):
            e = np.zeros(k)
            e[i] = h[i]
            hess[i, i] = (f(x + e) - 2 * f0 + f(x - e)) / h[i] ** 2
            for j in range(i):
                u = np.zeros(k)
                u[j] = h[j]
                value = (f(x + e + u) - f(x + e - u) - f(x - e + u) + f(x - e - u)) / (4 * h[i] * h[j])
                hess[i, j] = hess[j, i] = value
        estimates.append(hess)
    return _extrapolate(estimates)


def richardson_jacobian(f, x: np.ndarray, *, relative: float = 1e-2, levels: int = 3) -> list[np.ndarray]:
    """Derivative of a matrix-valued ``f`` in each coordinate (central differences, Richardson)."""
    x = np.asarray(x, dtype=float)
    base = _steps(x, relative)
    out = []
    for i in range(len(x)):
        estimates = []
        for level in range(levels):
            e = np.zeros(len(x))
            e[i] = base[i] / 2**level
            estimates.append((f(x + e) - f(x - e)) / (2 * e[i]))
        out.append(_extrapolate(estimates))
    return out


def _extrapolate(estimates: list[np.ndarray]) -> np.ndarray:
    """Richardson's table for an error in even powers of the step, halved per level."""
    table = list(estimates)
    power = 4
    while len(table) > 1:
        table = [(power * fine - coarse) / (power - 1) for coarse, fine in zip(table, table[1:])]
        power *= 4
    return table[0]


@dataclass(frozen=True)
class Satterthwaite:
    """What the df of any contrast needs: C, dC/dphi and A at the estimate, and the Hessian's
    eigenvalues (``problem`` says why no df can be computed, empty when they can)."""

    covariance: np.ndarray
    jacobian: tuple[np.ndarray, ...]
    vcov_varpar: np.ndarray
    eigenvalues: np.ndarray
    problem: str = ""

    def df(self, contrast: np.ndarray) -> float:
        if self.problem:
            return math.nan
        c = np.asarray(contrast, dtype=float)
        variance = float(c @ self.covariance @ c)
        gradient = np.array([float(c @ d @ c) for d in self.jacobian])
        denominator = float(gradient @ self.vcov_varpar @ gradient)
        if not (variance > 0 and denominator > 0 and math.isfinite(denominator)):
            return math.nan
        return 2.0 * variance**2 / denominator


def satterthwaite(deviance: RemlDeviance, phi: np.ndarray) -> Satterthwaite:
    """lmerTest's ``as_lmerModLT`` for the REML fit at ``phi``."""
    phi = np.asarray(phi, dtype=float)
    covariance = deviance.covariance(phi)
    jacobian = tuple(richardson_jacobian(deviance.covariance, phi))
    hessian = richardson_hessian(deviance.deviance, phi)
    values, vectors = np.linalg.eigh((hessian + hessian.T) / 2)
    problem = ""
    negative = values[values < -EIGEN_TOLERANCE]
    if len(negative):
        problem = "Hessian of the REML deviance has negative eigenvalue(s) " + " ".join(f"{v:.1e}" for v in negative)
    keep = values > EIGEN_TOLERANCE
    inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    return Satterthwaite(covariance, jacobian, 2.0 * inverse, values[::-1], problem)


def polish(deviance: RemlDeviance, phi: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimise the profiled REML deviance in theta from ``phi`` (bounded as in lme4).

    statsmodels' optimizers stop where the REML log-likelihood is flat to about 1e-8, which
    leaves variance components about 1e-5 (relative) from the optimum and, on a boundary, a
    Cholesky diagonal near 1e-3 instead of 0. L-BFGS-B with lme4's bounds (0 for the
    diagonal of each factor and for the variance components) finishes the job. Returns the new
    ``(theta, sigma)`` and its deviance; when the search does not improve the deviance the
    starting point is returned unchanged.
    """
    from scipy import optimize

    phi = np.asarray(phi, dtype=float)
    start = phi[:-1].copy()
    bounds = [(b, None) for b in deviance.lower_bounds()]
    start = np.array([max(v, 0.0) if b[0] is not None else v for v, b in zip(start, bounds)])
    before = deviance.deviance(phi)
    try:
        found = optimize.minimize(
            deviance.profiled, start, method="L-BFGS-B", bounds=bounds,
            options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 500},
        )
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return phi, before
    theta = np.asarray(found.x, dtype=float)
    candidate = np.append(theta, deviance.sigma_at(theta))
    after = deviance.deviance(candidate)
    if math.isfinite(after) and after <= before:
        return candidate, after
    return phi, before


#: A Cholesky diagonal element (relative SD) below this counts as 0 (lme4's ``isSingular``
#: tolerance is 1e-4; this matches the earlier rule of a variance below 1e-6 of the residual).
SINGULAR_THETA = 1e-3


def boundary_notes(deviance: RemlDeviance, phi: np.ndarray, names: list[str]) -> list[str]:
    """Boundary results of the fit at ``phi``: a variance at 0 or a singular covariance.

    ``names`` label the ``exog_re`` columns. For each diagonal element of the random-effects
    factor below :data:`SINGULAR_THETA`: when the whole row is (the variance is 0) the note
    says ``<name> variance estimated at 0``; otherwise the term is a perfect linear function
    of the terms before it (correlation +-1 for two), a singular covariance.
    """
    phi = np.asarray(phi, dtype=float)
    factor = deviance._factor(phi[:-1])
    notes = []
    for j, name in enumerate(names):
        if factor[j, j] < SINGULAR_THETA:
            if float(np.sqrt(factor[j] @ factor[j])) < SINGULAR_THETA:
                notes.append(f"{name} variance estimated at 0")
            else:
                notes.append(f"{name} perfectly correlated with {', '.join(names[:j])} (singular covariance)")
    vc = phi[len(deviance._tril[0]):-1]
    for name, value in zip(deviance.vc_names, vc):
        if value < SINGULAR_THETA:
            notes.append(f"{name} variance estimated at 0")
    return notes
