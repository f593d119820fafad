# Reference fits (lme4) for the supervisors' mixed models; output: supervisors_lmer.csv
#
# Run from the repository root (Debian's r-base-core, r-cran-lme4 and r-cran-lmertest):
#   Rscript tests/reference/supervisors.R <path to statsmodels/regression/tests/results/dietox.csv>
#
# 1. supervisors_data.csv (written by make_supervisors_data.py): supervisors nested in
#    training groups, 4 waves, MAR drop-out.
#    score ~ wave + (1 | training_group) + (1 | supervisor), REML; wave T0 is the reference.
#    Supervisor ids are unique across groups, so this is (1 | training_group/supervisor).
#    supervisors_boundary_data.csv: the same without any training-group effect (singular fit).
# 2. dietox (shipped in the statsmodels wheel): Weight ~ Time + (1 | Litter/Pig), REML.
# 3. The group-slope model of the supervisors' analysis, with lmerTest's Satterthwaite df:
#    score ~ wave + (1 + post | training_group) + (1 | supervisor), post = 1 after T0, REML,
#    - slopes:           supervisors_slope_data.csv (groups differ in level and change; 4 online);
#    - slopes_mode:      the same data, score ~ wave * mode + ... (online vs on-site change);
#    - slopes_singular:  supervisors_singular_data.csv (no group slope in truth: the 2 x 2 group
#                        covariance is estimated singular, correlation -1 or +1);
#    - slopes_boundary:  supervisors_boundary_data.csv (no group effect at all: every group
#                        variance, the slope's included, estimated at 0).
#    Per fixed effect and per extra contrast (contest1D): estimate, se, df, p; variances and
#    covariances (VarCorr), theta, the REML log-likelihood, isSingular, and lmerTest's warnings
#    about the Hessian of the variance parameters.
#
# The output has one row per number: model, quantity, term, value (17 significant digits).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript tests/reference/supervisors.R <dietox.csv>")

rows <- list()
add <- function(model, quantity, term, value) {
  rows[[length(rows) + 1]] <<- data.frame(model = model, quantity = quantity, term = term,
                                          value = value, stringsAsFactors = FALSE)
}
num <- function(x) trimws(formatC(x, digits = 17, format = "g"))

report <- function(model, fit) {
  fe <- fixef(fit)
  se <- sqrt(diag(as.matrix(vcov(fit))))
  for (i in seq_along(fe)) {
    add(model, "fixed", names(fe)[i], num(fe[[i]]))
    add(model, "se", names(fe)[i], num(se[[i]]))
  }
  vc <- as.data.frame(VarCorr(fit))
  for (i in seq_len(nrow(vc))) add(model, "variance", vc$grp[i], num(vc$vcov[i]))
  add(model, "loglik_reml", "", num(as.numeric(logLik(fit, REML = TRUE))))
  add(model, "nobs", "", as.character(nobs(fit)))
}

sup <- read.csv("tests/reference/supervisors_data.csv", stringsAsFactors = FALSE)
sup$wave <- factor(sup$wave, levels = c("T0", "T1", "T2", "T3"))
fit_sup <- lmer(score ~ wave + (1 | training_group) + (1 | supervisor), data = sup, REML = TRUE,
                control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 0.2, rhoend = 1e-10)))
report("supervisors", fit_sup)

# the same model where the training groups differ in nothing: a boundary (singular) fit
bnd <- read.csv("tests/reference/supervisors_boundary_data.csv", stringsAsFactors = FALSE)
bnd$wave <- factor(bnd$wave, levels = c("T0", "T1", "T2", "T3"))
fit_bnd <- lmer(score ~ wave + (1 | training_group) + (1 | supervisor), data = bnd, REML = TRUE,
                control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 0.2, rhoend = 1e-10)))
report("supervisors_boundary", fit_bnd)
add("supervisors_boundary", "singular", "", as.character(isSingular(fit_bnd)))

diet <- read.csv(args[1])
fit_diet <- lmer(Weight ~ Time + (1 | Litter/Pig), data = diet, REML = TRUE,
                 control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 0.2, rhoend = 1e-10)))
report("dietox_nested", fit_diet)

# --- group slopes with Satterthwaite df (lmerTest) ---------------------------------------------
control <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 0.2, rhoend = 1e-10))
read_waves <- function(path) {
  d <- read.csv(path, stringsAsFactors = FALSE)
  d$wave <- factor(d$wave, levels = c("T0", "T1", "T2", "T3"))
  d$post <- as.numeric(d$wave != "T0")
  d
}
report_slopes <- function(model, formula, data, contrasts) {
  caught <- character(0)
  fit <- withCallingHandlers(
    lmerTest::lmer(formula, data = data, REML = TRUE, control = control),
    warning = function(w) { caught <<- c(caught, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) invokeRestart("muffleMessage"))
  table <- coef(summary(fit, ddf = "Satterthwaite"))
  for (term in rownames(table)) {
    add(model, "fixed", term, num(table[term, "Estimate"]))
    add(model, "se", term, num(table[term, "Std. Error"]))
    add(model, "df", term, num(table[term, "df"]))
    add(model, "p", term, num(table[term, "Pr(>|t|)"]))
  }
  for (label in names(contrasts)) {
    L <- setNames(rep(0, length(fixef(fit))), names(fixef(fit)))
    L[names(contrasts[[label]])] <- contrasts[[label]]
    ct <- contest(fit, L, joint = FALSE, ddf = "Satterthwaite")
    add(model, "contrast_estimate", label, num(ct$Estimate))
    add(model, "contrast_se", label, num(ct[["Std. Error"]]))
    add(model, "contrast_df", label, num(ct$df))
    add(model, "contrast_p", label, num(ct[["Pr(>|t|)"]]))
  }
  vc <- as.data.frame(VarCorr(fit))
  for (i in seq_len(nrow(vc))) {
    term <- paste(c(vc$grp[i], na.omit(c(vc$var1[i], vc$var2[i]))), collapse = ":")
    add(model, if (is.na(vc$var2[i])) "variance" else "covariance", term, num(vc$vcov[i]))
  }
  theta <- getME(fit, "theta")
  for (i in seq_along(theta)) add(model, "theta", names(theta)[i], num(theta[[i]]))
  add(model, "loglik_reml", "", num(as.numeric(logLik(fit, REML = TRUE))))
  add(model, "nobs", "", as.character(nobs(fit)))
  add(model, "singular", "", as.character(isSingular(fit)))
  for (w in unique(caught)) add(model, "warning", "", w)
  hessian_eigen <- eigen(numDeriv::hessian(lmerTest:::devfun_vp, c(theta, sigma(fit)),
                                           devfun = update(fit, devFunOnly = TRUE), reml = TRUE),
                         symmetric = TRUE, only.values = TRUE)$values
  for (i in seq_along(hessian_eigen)) add(model, "hessian_eigenvalue", as.character(i), num(hessian_eigen[i]))
}

slope_formula <- score ~ wave + (1 + post | training_group) + (1 | supervisor)
between <- list("T2 - T1" = c(waveT1 = -1, waveT2 = 1), "mean T1" = c("(Intercept)" = 1, waveT1 = 1))
slopes <- read_waves("tests/reference/supervisors_slope_data.csv")
report_slopes("slopes", slope_formula, slopes, between)
slopes$mode <- factor(slopes$mode, levels = c("on_site", "online"))
report_slopes("slopes_mode", score ~ wave * mode + (1 + post | training_group) + (1 | supervisor), slopes,
              list("T1 online" = c(waveT1 = 1, "waveT1:modeonline" = 1)))
report_slopes("slopes_singular", slope_formula, read_waves("tests/reference/supervisors_singular_data.csv"), between)
report_slopes("slopes_boundary", slope_formula, read_waves("tests/reference/supervisors_boundary_data.csv"), between)

add("meta", "version", "R", R.version.string)
add("meta", "version", "lme4", as.character(packageVersion("lme4")))
add("meta", "version", "Matrix", as.character(packageVersion("Matrix")))
add("meta", "version", "lmerTest", as.character(packageVersion("lmerTest")))
add("meta", "version", "numDeriv", as.character(packageVersion("numDeriv")))

out <- do.call(rbind, rows)
write.csv(out, "tests/reference/supervisors_lmer.csv", row.names = FALSE, quote = TRUE)
cat("wrote tests/reference/supervisors_lmer.csv\n")
