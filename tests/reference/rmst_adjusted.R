# Independent reference for mentorwijs.effects.survival.rmst_adjusted and rmst_pseudo_values:
# the covariate-adjusted RMST difference by regression on pseudo-observations, computed with R
# (survival::pseudo, lm, sandwich::vcovCL).
#
# Run from the repository root:
#     Rscript tests/reference/rmst_adjusted.R
# It reads the survival part of tests/reference/effects_data.csv (read-only; written by
# make_effects_data.py: 60 trainee units, 210 control units of 133 persons with matching
# weights, tied whole-month times, events at time 0, censoring before month 12) and writes
# tests/reference/rmst_adjusted_R_output.csv, one number per row:
#     section, outcome, horizon, covariates, unit, quantity, value
# The first rows (section "meta") state the R, survival and sandwich versions that wrote it.
# The tests compare the Python estimators against this file and never need R.
#
# Construction (docs/effects.md, "Covariate-adjusted RMST difference"):
# 1. per group (trainees, controls) the weighted Kaplan-Meier curve and its infinitesimal-
#    jackknife RMST pseudo-values, survival::pseudo(type = "rmst"). pseudo() returns
#    RMST + n * dRMST/dw_i with n the number of units; the weights are rescaled to sum to n
#    within the group first, so that the result is RMST + W * dRMST/dw_i for the matching
#    weights w (W their sum), which does not depend on the weights' scale;
# 2. lm(pseudo ~ treated + covariates, weights = matching weight);
# 3. the treated coefficient with sandwich::vcovCL(cluster = ~person, type = "HC1").
# rmst_treated is the trainees' weighted mean pseudo-value; rmst_control = rmst_treated - the
# treated coefficient; their SEs come from the joint influence of that mean and the
# coefficient (estfun and the bread of lm), summed per person, times vcovCL's HC1 factor.

suppressPackageStartupMessages({
  library(survival)
  library(sandwich)
})

here <- "tests/reference"
data <- read.csv(file.path(here, "effects_data.csv"), stringsAsFactors = FALSE)
surv <- data[data$part == "survival", ]
surv$sector <- factor(surv$sector)  # levels in sorted order: the first is the reference

out <- list()
put <- function(section, quantity, value, outcome = "", horizon = NA, covariates = "", unit = "") {
  out[[length(out) + 1]] <<- data.frame(
    section = section, outcome = outcome, horizon = ifelse(is.na(horizon), "", as.character(horizon)),
    covariates = covariates, unit = unit, quantity = quantity,
    value = if (is.character(value)) value else trimws(formatC(value, digits = 15, format = "g")),
    stringsAsFactors = FALSE
  )
}

put("meta", "R_version", paste(R.version$major, R.version$minor, sep = "."))
put("meta", "survival_version", as.character(packageVersion("survival")))
put("meta", "sandwich_version", as.character(packageVersion("sandwich")))

covariate_sets <- list(none = character(0), full = c("age", "temporary_contract", "sector"))

for (outcome in c("job", "work")) {
  for (h in c(6, 12)) {
    d <- surv
    d$time <- d[[paste0("time_", outcome)]]
    d$event <- d[[paste0("event_", outcome)]]
    d$pseudo <- NA_real_
    for (g in c(1, 0)) {
      rows <- which(d$treated == g)
      sg <- d[rows, ]
      sg$w_n <- sg$weight * nrow(sg) / sum(sg$weight)
      fit <- survfit(Surv(time, event) ~ 1, data = sg, weights = w_n, id = unit)
      d$pseudo[rows] <- as.vector(pseudo(fit, times = h, type = "rmst"))
    }
    for (i in seq_len(nrow(d))) put("pseudo", "pseudo", d$pseudo[i], outcome, h, "", d$unit[i])
    for (set in names(covariate_sets)) {
      rhs <- paste(c("treated", covariate_sets[[set]]), collapse = " + ")
      fit <- lm(as.formula(paste("pseudo ~", rhs)), data = d, weights = weight)
      V <- vcovCL(fit, cluster = ~person, type = "HC1")
      est <- unname(coef(fit)["treated"])
      se <- sqrt(V["treated", "treated"])
      # joint influence of the trainees' weighted mean pseudo-value and the treated coefficient
      tr <- d$treated == 1
      mu <- weighted.mean(d$pseudo[tr], d$weight[tr])
      a_i <- ifelse(tr, d$weight * (d$pseudo - mu) / sum(d$weight[tr]), 0)
      X <- model.matrix(fit)
      b_i <- drop(estfun(fit) %*% solve(crossprod(X * sqrt(d$weight)))[, "treated"])
      a <- tapply(a_i, d$person, sum)
      b <- tapply(b_i, d$person, sum)
      G <- length(a)
      N <- nrow(X)
      K <- ncol(X)
      hc1 <- G / (G - 1) * (N - 1) / (N - K)
      put("fit", "difference", est, outcome, h, set)
      put("fit", "se", se, outcome, h, set)
      put("fit", "rmst_treated", mu, outcome, h, set)
      put("fit", "rmst_control", mu - est, outcome, h, set)
      put("fit", "se_treated", sqrt(hc1 * sum(a^2)), outcome, h, set)
      put("fit", "se_control", sqrt(hc1 * sum((a - b)^2)), outcome, h, set)
      put("fit", "se_check_from_influence", sqrt(hc1 * sum(b^2)), outcome, h, set)
    }
  }
}

res <- do.call(rbind, out)
write.csv(res, file.path(here, "rmst_adjusted_R_output.csv"), row.names = FALSE, quote = TRUE)
cat("wrote", nrow(res), "rows to", file.path(here, "rmst_adjusted_R_output.csv"), "\n")
