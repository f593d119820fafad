"""Month-by-month weighted least squares with CR1 and CR2 (bias-reduced) cluster-robust inference.

The difference-in-differences regressions of :mod:`mentorwijs.effects.did` interact every
regressor with the month: the design is block-diagonal by month, so the regression separates into
one weighted least-squares fit per month (``y`` on 1, ``treated`` and the covariates, within the
month), and so does everything built from its hat matrix. This module fits those monthly
regressions and returns, per cluster and month, what the cluster-robust covariances need.

CR2 follows Bell and McCaffrey (2002) and Pustejovsky and Tipton (2018), exactly as R's
``clubSandwich::vcovCR(type = "CR2")`` computes it for a weighted ``lm`` (clubSandwich 0.5/0.6,
``R/CR-adjustments.R``): the working model is the identity (``targetVariance``; weights are not
taken as inverse variances), W = diag(w) (clubSandwich divides w by its mean, which changes
nothing below), M = (U'WU)^-1, and for cluster j

    G_j = I - H_jj - H_jj' + U_j M (U'W W U) M U_j',   H_jj = U_j M U_j' W_j,
    A_j = G_j^(-1/2)   (symmetric; eigenvalues <= 1e-12 set to 0, clubSandwich's matrix_power),

    V^CR2 = M [ sum_j U_j' W_j A_j e_j e_j' A_j W_j U_j ] M.

Because U, M and U'WWU are block-diagonal by month, so are G_j and A_j: the adjustment is done
per (cluster, month) block, with batched eigen-decompositions of blocks of equal size.

Nothing below needs the blocks to be months. The modifiers stack the regressions of a
modifier's levels (each fitted on its own re-matched panel, one person possibly in several
levels) into one fully interacted regression y ~ level x month x (1, treated, covariates),
clustered on person across levels: its design is block-diagonal by (level, month), so the
stacked fit is the monthly fits of the levels side by side, and CR2 factorises per person x
(level, month) block. :func:`stack_blocks` builds that stacked :class:`MonthlyWls` from the
levels' (identical, up to the order of the blocks, to :func:`monthly_wls` with the block code
level x months + month), and :func:`satterthwaite_df` takes a contrast over its blocks, e.g. a
level's pooled effect minus the reference level's.

Satterthwaite degrees of freedom for a contrast c (clubSandwich ``coef_test`` /
``linear_contrast`` with ``test = "Satterthwaite"``, ``R/get_arrays.R``): with g_j = A_j W_j U_j M c,
q_j = M U_j' g_j, r_j = U_j' W_j g_j and B = U'WWU, the J x J matrix

    P_ij = [i = j] g_j'g_j + q_i' B q_j - q_i' r_j - r_i' q_j

gives df = (tr P)^2 / sum_ij P_ij^2. The sum of squares is computed without forming P:
with x_j = (q_j, r_j) and K = [[B, -I], [-I, 0]], sum_ij (x_i'K x_j)^2 = tr(K S K S) with
S = sum_j x_j x_j' -- O(J p^2) instead of O(J^2).

Every contrast of the DiD puts weight only on the ``treated`` coefficient of each month, so per
(cluster, month) it is enough to keep the CR2 score s_jm, the vectors a_jm = M_m U_jm' z_jm and
b_jm = U_jm' W_jm z_jm and gamma_jm = z_jm' z_jm, where z_jm = A_jm W_jm U_jm M_m e_treated.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np

#: clubSandwich's matrix_power: eigenvalues at or below this are treated as 0.
EIGEN_TOL = 1e-12
#: R's lm (dqrdc2) tolerance for aliased columns.
ALIAS_TOL = 1e-7


@functools.lru_cache(maxsize=1)
def _openblas_thread_controls() -> tuple[tuple[object, object], ...]:
    """(set, get) thread-count functions of the OpenBLAS libraries loaded in this process."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps.read())))
    except OSError:
        return ()
    controls = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("", "64_"):
            for prefix in ("openblas", "scipy_openblas"):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    controls.append((setter, getter))
    return tuple(controls)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block below with one OpenBLAS thread, then restore the thread count.

    The products here are many and small (a month's rows times at most a few dozen columns);
    threads only add synchronisation, which on a machine whose cores are busy costs more than the
    products (measured: 4x slower with the default threads at a load of 6 on 2 cores). Results
    do not depend on it. Other BLAS libraries are left alone.
    """
    controls = _openblas_thread_controls()
    before = [int(get()) for _, get in controls]
    for set_threads, _ in controls:
        set_threads(1)
    try:
        yield
    finally:
        for (set_threads, _), n in zip(controls, before):
            set_threads(n)


def _one_blas_thread(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with single_threaded_blas():
            return func(*args, **kwargs)
    return wrapper


@dataclass(frozen=True)
class MonthlyWls:
    """The monthly regressions of one outcome (see the module docstring).

    Arrays over months (M) and clusters (G); k = columns of a month's design (1, treated, covariates):
    ``coef_treated`` (M), ``kept`` (M x k, False for aliased columns), ``n_params`` (non-aliased
    columns over all months), ``score_cr0`` (G x M: e_T' M_m U_jm' W e_jm, the CR0 score of each
    month's treated coefficient), ``score_cr2`` (G x M: the same with A_jm), ``a``, ``b`` (G x M x k),
    ``gamma`` (G x M) and ``B`` (M x k x k): the parts of the Satterthwaite df.
    """

    coef_treated: np.ndarray
    kept: np.ndarray
    n_params: int
    score_cr0: np.ndarray
    score_cr2: np.ndarray
    a: np.ndarray
    b: np.ndarray
    gamma: np.ndarray
    B: np.ndarray


def _kept_columns(XtWX: np.ndarray) -> np.ndarray:
    """Columns (in order) that are not linear combinations of earlier ones in the weighted metric,
    from the cross-product X'WX: a column is kept when the norm of its residual on the kept
    earlier columns exceeds ALIAS_TOL times its own norm (R's lm, dqrdc2, drops the later of
    collinear columns with this tolerance). The covariates are centred and scaled before, so the
    cross-product is well conditioned unless columns are truly collinear."""
    k = XtWX.shape[0]
    keep = np.zeros(k, dtype=bool)
    for j in range(k):
        norm2 = XtWX[j, j]
        if norm2 <= 0:
            continue
        kept = np.flatnonzero(keep)
        if kept.size:
            C = XtWX[np.ix_(kept, kept)]
            c = XtWX[kept, j]
            resid2 = norm2 - c @ np.linalg.solve(C, c)
        else:
            resid2 = norm2
        if resid2 > (ALIAS_TOL ** 2) * norm2:
            keep[j] = True
    return keep


def _inverse_sqrt(G: np.ndarray) -> np.ndarray:
    """Symmetric G^(-1/2) of a stack of symmetric matrices (eigenvalues <= EIGEN_TOL -> 0)."""
    if G.shape[-1] == 1:
        g = G[:, 0, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(g > EIGEN_TOL, 1.0 / np.sqrt(np.where(g > EIGEN_TOL, g, 1.0)), 0.0)[:, None, None]
    vals, vecs = np.linalg.eigh(0.5 * (G + np.swapaxes(G, 1, 2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(vals > EIGEN_TOL, 1.0 / np.sqrt(np.where(vals > EIGEN_TOL, vals, 1.0)), 0.0)
    return (vecs * p[:, None, :]) @ np.swapaxes(vecs, 1, 2)


@_one_blas_thread
def monthly_wls(y: np.ndarray, treated: np.ndarray, w: np.ndarray, month: np.ndarray, g: np.ndarray,
                covariates: np.ndarray | None, n_months: int, n_clusters: int) -> MonthlyWls:
    """Fit y ~ 1 + treated + covariates by WLS within each month ``0..n_months-1`` and collect the
    per-cluster CR0/CR2 scores of the treated coefficient and the parts of its Satterthwaite df.

    ``month`` holds month positions, ``g`` cluster codes 0..n_clusters-1, ``covariates`` an
    n x q float matrix (or None). A month whose treated column is aliased (one group empty) gets
    coefficient NaN. ``month`` can be any block key 0..n_months-1 (e.g. level x months + month
    for a stacked regression of several subgroups): every quantity is computed per block.
    """
    q = 0 if covariates is None else covariates.shape[1]
    k = 2 + q
    M, G = n_months, n_clusters
    coef = np.full(M, np.nan)
    kept_all = np.zeros((M, k), dtype=bool)
    s0 = np.zeros((G, M))
    s2 = np.zeros((G, M))
    a = np.zeros((M, G, k))
    b = np.zeros((M, G, k))
    gamma = np.zeros((G, M))
    Bm = np.zeros((M, k, k))
    order = np.lexsort((g, month))
    month_s = month[order]
    bounds = np.searchsorted(month_s, np.arange(M + 1))
    for m in range(M):
        rows = order[bounds[m]:bounds[m + 1]]
        if not len(rows):
            continue
        wm = w[rows]
        parts = [np.ones(len(rows)), treated[rows].astype(float)]
        U = np.column_stack(parts if covariates is None else [*parts, covariates[rows]])
        if q:
            # centre and scale the covariates within the month: the span (and so every quantity
            # below except the covariates' own coefficients) is unchanged, the numerics are better
            Z = U[:, 2:]
            mean = np.average(Z, axis=0, weights=wm)
            scale = np.sqrt(np.average((Z - mean) ** 2, axis=0, weights=wm))
            U[:, 2:] = (Z - mean) / np.where(scale > 0, scale, 1.0)
            U[:, 2:][:, scale == 0] = 0.0
        UtW = (U * wm[:, None]).T
        full = UtW @ U
        keep = _kept_columns(full)
        kept_all[m] = keep
        if not keep[1]:
            continue
        Uk = U[:, keep]
        Mk = np.linalg.inv(full[np.ix_(keep, keep)])
        Mfull = np.zeros((k, k))
        Mfull[np.ix_(keep, keep)] = Mk
        beta = Mk @ (Uk.T @ (wm * y[rows]))
        coef[m] = beta[1]
        e = y[rows] - Uk @ beta
        B = U.T @ (U * (wm ** 2)[:, None])
        Bm[m] = B
        V = U @ Mfull  # rows: (M U_r)'
        T = V @ B  # rows: (B M U_r)'
        _cluster_parts(m, g[rows], U, V, T, wm, e, s0, s2, a, b, gamma)
    return MonthlyWls(coef_treated=coef, kept=kept_all, n_params=int(kept_all.sum()), score_cr0=s0, score_cr2=s2,
                      a=a, b=b, gamma=gamma, B=Bm)


def _cluster_parts(m: int, gm: np.ndarray, U: np.ndarray, V: np.ndarray, T: np.ndarray, wm: np.ndarray, e: np.ndarray,
                   s0: np.ndarray, s2: np.ndarray, a: np.ndarray, b: np.ndarray, gamma: np.ndarray) -> None:
    """Month ``m`` of :func:`monthly_wls`: per cluster (``gm``, the month's rows sorted by cluster),
    the CR0 and CR2 scores of the treated coefficient and the parts of its Satterthwaite df,
    written into ``s0``, ``s2``, ``a``, ``b`` and ``gamma``. ``V`` holds the rows (M U_r)', ``T``
    the rows (B M U_r)', ``e`` the residuals."""
    # clusters of the month, as blocks of consecutive rows (rows are sorted by cluster)
    starts = np.flatnonzero(np.r_[True, gm[1:] != gm[:-1]])
    sizes = np.diff(np.r_[starts, len(gm)])
    single = starts[sizes == 1]
    if single.size:  # one unit of the person in the month (most): scalars, no matrix products
        u, v, t = U[single], V[single], T[single]
        ws, es = wm[single], e[single]
        h = ws * np.einsum("bi,bi->b", u, v)
        gg = 1.0 - 2.0 * h + np.einsum("bi,bi->b", t, v)
        with np.errstate(divide="ignore", invalid="ignore"):
            A = np.where(gg > EIGEN_TOL, 1.0 / np.sqrt(np.where(gg > EIGEN_TOL, gg, 1.0)), 0.0)
        wv = ws * v[:, 1]
        z = A * wv
        clusters = gm[single]
        s0[clusters, m] = wv * es
        s2[clusters, m] = z * es
        a[m, clusters] = v * z[:, None]
        b[m, clusters] = u * (ws * z)[:, None]
        gamma[clusters, m] = z * z
    for size in np.unique(sizes[sizes > 1]):
        first = starts[sizes == size]
        idx = first[:, None] + np.arange(size)[None, :]
        Ub, Vb, Tb = U[idx], V[idx], T[idx]
        wb, eb = wm[idx], e[idx]
        H = (Ub @ np.swapaxes(Vb, 1, 2)) * wb[:, None, :]  # U_j M U_j' W_j
        Q = Tb @ np.swapaxes(Vb, 1, 2)  # U_j M B M U_j'
        Gmat = np.eye(size)[None] - H - np.swapaxes(H, 1, 2) + Q
        A = _inverse_sqrt(Gmat)
        wv = wb * Vb[:, :, 1]  # W_j U_j M e_T
        z = np.einsum("bij,bj->bi", A, wv)
        clusters = gm[first]
        s0[clusters, m] = np.einsum("bi,bi->b", wv, eb)
        s2[clusters, m] = np.einsum("bi,bi->b", z, eb)
        a[m, clusters] = np.einsum("bij,bi->bj", Vb, z)
        b[m, clusters] = np.einsum("bij,bi->bj", Ub, wb * z)
        gamma[clusters, m] = np.einsum("bi,bi->b", z, z)


def stack_blocks(parts: list[MonthlyWls], blocks: list[np.ndarray], clusters: list[np.ndarray],
                 n_clusters: int) -> MonthlyWls:
    """The stacked regression of several separately fitted block-diagonal regressions.

    ``parts[i]`` is the :class:`MonthlyWls` of fit i, ``blocks[i]`` the positions of its blocks
    (months) to keep, in order, and ``clusters[i]`` maps its cluster codes to codes
    0..n_clusters-1 of the stacked fit (the same person in two fits gets one code). The result
    has the kept blocks of every fit one after the other (fit 0's first): exactly
    :func:`monthly_wls` on the stacked rows with one block per (fit, kept block), clustered on
    the common codes, because nothing there couples blocks. The fits must have equally many
    columns per block.
    """
    k = parts[0].a.shape[2]
    if any(p.a.shape[2] != k for p in parts):
        raise ValueError("the stacked fits need the same number of columns per block")
    n_blocks = sum(len(b) for b in blocks)
    coef = np.concatenate([p.coef_treated[b] for p, b in zip(parts, blocks)])
    kept = np.concatenate([p.kept[b] for p, b in zip(parts, blocks)])
    s0, s2, gamma = (np.zeros((n_clusters, n_blocks)) for _ in range(3))
    a, b_ = (np.zeros((n_blocks, n_clusters, k)) for _ in range(2))
    B = np.concatenate([p.B[b] for p, b in zip(parts, blocks)])
    start = 0
    for p, b, c in zip(parts, blocks, clusters):
        cols = slice(start, start + len(b))
        s0[c, cols] = p.score_cr0[:, b]
        s2[c, cols] = p.score_cr2[:, b]
        gamma[c, cols] = p.gamma[:, b]
        a[cols][:, c] = p.a[b]
        b_[cols][:, c] = p.b[b]
        start += len(b)
    return MonthlyWls(coef_treated=coef, kept=kept, n_params=int(kept.sum()), score_cr0=s0, score_cr2=s2,
                      a=a, b=b_, gamma=gamma, B=B)


@_one_blas_thread
def satterthwaite_df(parts: MonthlyWls, c: np.ndarray) -> float:
    """Satterthwaite degrees of freedom of the CR2 variance of sum_m c_m beta_treated(m)
    (clubSandwich's, see the module docstring); NaN when the contrast has no variance. The
    index m runs over the blocks of ``parts`` (months, or the (level, month) blocks of a
    :func:`stack_blocks` fit)."""
    c = np.asarray(c, dtype=float)
    support = np.flatnonzero(c != 0)
    if not support.size:
        return float("nan")
    G, k = parts.a.shape[1], parts.a.shape[2]
    # with y_g = (|c_m| x_gm)_m and the block-diagonal K: F_ij = sum_m c_m^2 x_im' K_m x_jm
    Y = np.empty((G, 2 * k * support.size))
    KY = np.empty_like(Y)
    for j, m in enumerate(support):
        x, Kx = _x_Kx(parts, m)
        Y[:, 2 * k * j:2 * k * (j + 1)] = abs(c[m]) * x
        KY[:, 2 * k * j:2 * k * (j + 1)] = abs(c[m]) * Kx
    d = parts.gamma[:, support] @ (c[support] ** 2)
    f_diag = np.einsum("gi,gi->g", Y, KY)
    if G <= Y.shape[1]:
        F = Y @ KY.T
        sum_f2 = float((F * F).sum())
    else:
        KS = KY.T @ Y  # = K S with S = sum_g y_g y_g' (K symmetric)
        sum_f2 = float(np.einsum("ij,ji->", KS, KS))
    return _df(d, f_diag, sum_f2)


def _df(d: np.ndarray, f_diag: np.ndarray, sum_f2: float) -> float:
    trace = float((d + f_diag).sum())
    total = sum_f2 + 2.0 * float(d @ f_diag) + float(d @ d)
    if not (trace > 0 and total > 0):
        return float("nan")
    return trace * trace / total


def _x_Kx(parts: MonthlyWls, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Month m: x_g = (a_g, b_g) and K_m x_g = (B_m a_g - b_g, -a_g), each G x 2k."""
    a, b = parts.a[m], parts.b[m]
    return np.hstack([a, b]), np.hstack([a @ parts.B[m] - b, -a])


@_one_blas_thread
def monthly_effect_df(parts: MonthlyWls, reference: int) -> np.ndarray:
    """Satterthwaite df of every monthly effect beta_treated(m) - beta_treated(reference) (NaN at
    the reference month): :func:`satterthwaite_df` with c = e_m - e_r, month by month, with
    sum_ij F_ij^2 = T_mm + T_rr + 2 T_mr, T_ml = tr(K_m S_ml K_l S_lm), S_ml = sum_g x_gm x_gl'."""
    M = parts.a.shape[0]
    xr, Kxr = _x_Kx(parts, reference)
    phi_r = np.einsum("gi,gi->g", xr, Kxr)
    KSr = Kxr.T @ xr
    T_rr = float(np.einsum("ij,ji->", KSr, KSr))
    out = np.full(M, np.nan)
    for m in range(M):
        if m == reference:
            continue
        x, Kx = _x_Kx(parts, m)
        KS = Kx.T @ x
        T_mm = float(np.einsum("ij,ji->", KS, KS))
        T_mr = float(np.einsum("ij,ji->", Kx.T @ xr, Kxr.T @ x))
        d = parts.gamma[:, m] + parts.gamma[:, reference]
        f_diag = np.einsum("gi,gi->g", x, Kx) + phi_r
        out[m] = _df(d, f_diag, T_mm + T_rr + 2.0 * T_mr)
    return out
