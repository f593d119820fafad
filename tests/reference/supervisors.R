# Reference fits (lme4) for the supervisors' mixed models; output: supervisors_lmer.csv
#
# Run from the repository root (Debian's r-base-core and r-cran-lme4):
#   Rscript tests/reference/supervisors.R <path to statsmodels/regression/tests/results/dietox.csv>
#
# 1. supervisors_data.csv (written by make_supervisors_data.py): supervisors nested in
#    training groups, 4 waves, MAR drop-out.
#    score ~ wave + (1 | training_group) + (1 | supervisor), REML; wave T0 is the reference.
#    Supervisor ids are unique across groups, so this is (1 | training_group/supervisor).
#    supervisors_boundary_data.csv: the same without any training-group effect (singular fit).
# 2. dietox (shipped in the statsmodels wheel): Weight ~ Time + (1 | Litter/Pig), REML.
#
# The output has one row per number: model, quantity, term, value (17 significant digits).

suppressPackageStartupMessages(library(lme4))

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

add("meta", "version", "R", R.version.string)
add("meta", "version", "lme4", as.character(packageVersion("lme4")))
add("meta", "version", "Matrix", as.character(packageVersion("Matrix")))

out <- do.call(rbind, rows)
write.csv(out, "tests/reference/supervisors_lmer.csv", row.names = FALSE, quote = TRUE)
cat("wrote tests/reference/supervisors_lmer.csv\n")
