# Independent reference results for mentorwijs.effects, computed with R (survival + sandwich).
#
# Run from the repository root:
#     Rscript tests/reference/effects.R
# It reads tests/reference/effects_data.csv (written by make_effects_data.py) and writes
# tests/reference/effects_R_output.csv, one number per row:
#     section, outcome, model, term, group, time, quantity, value
# The first rows (section "meta") state the R, survival and sandwich versions that wrote it.
# The tests compare the Python estimators against this file and never need R.

suppressPackageStartupMessages({
  library(survival)
  library(sandwich)
})

here <- "tests/reference"
data <- read.csv(file.path(here, "effects_data.csv"), stringsAsFactors = FALSE)
panel <- data[data$part == "panel", ]
surv <- data[data$part == "survival", ]

out <- list()
put <- function(section, quantity, value, outcome = "", model = "", term = "", group = "", time = NA) {
  out[[length(out) + 1]] <<- data.frame(
    section = section, outcome = outcome, model = model, term = term, group = group,
    time = ifelse(is.na(time), "", as.character(time)), quantity = quantity,
    value = if (is.character(value)) value else trimws(formatC(value, digits = 15, format = "g")),
    stringsAsFactors = FALSE
  )
}

put("meta", "R_version", paste(R.version$major, R.version$minor, sep = "."))
put("meta", "survival_version", as.character(packageVersion("survival")))
put("meta", "sandwich_version", as.character(packageVersion("sandwich")))

# ---------------------------------------------------------------------------------------------
# Difference-in-differences: one WLS regression of the outcome on month x treated over all
# months (reference month first), observed person-months only, CR1 on person
# (vcovCL type HC1: G/(G-1) * (N-1)/(N-K)). Pooled = mean of the months 1..6 coefficients.
did_terms <- function(df, ref, months) {
  d <- df[df$month %in% months, ]
  for (m in setdiff(months, ref)) d[[dname(m)]] <- d$treated * (d$month == m)
  d
}
dname <- function(m) ifelse(m < 0, paste0("Dm", -m), paste0("Dp", m))

did_block <- function(label, d, outcome, ref, months, post) {
  d <- d[d$observed == 1 & !is.na(d[[outcome]]), ]
  d$y <- d[[outcome]]
  d$fmonth <- relevel(factor(d$month), ref = as.character(ref))
  d <- did_terms(d, ref, months)
  others <- setdiff(months, ref)
  rhs <- paste(c("fmonth", "treated", sapply(others, dname)), collapse = " + ")
  fit <- lm(as.formula(paste("y ~", rhs)), data = d, weights = weight)
  V <- vcovCL(fit, cluster = ~person, type = "HC1")
  for (m in others) {
    put("did", "estimate", unname(coef(fit)[dname(m)]), outcome, label, "month", time = m)
    put("did", "se", sqrt(V[dname(m), dname(m)]), outcome, label, "month", time = m)
  }
  a <- setNames(rep(1 / length(post), length(post)), sapply(post, dname))
  put("did", "estimate", sum(a * coef(fit)[names(a)]), outcome, label, "pooled")
  put("did", "se", sqrt(drop(t(a) %*% V[names(a), names(a)] %*% a)), outcome, label, "pooled")
  put("did", "nobs", nrow(d), outcome, label, "pooled")
  put("did", "clusters", length(unique(d$person)), outcome, label, "pooled")
}

fe_block <- function(label, d, outcome, ref, months, post, fe) {
  # Fixed-effect variants: the month x treated coefficients and their cluster-robust covariance
  # with only the G/(G-1) factor (HC0 + cadjust), so that the residual-df factor the Python
  # code uses (fixed effects nested in clusters are not counted) can be applied by the test.
  d <- d[d$observed == 1 & !is.na(d[[outcome]]), ]
  d$y <- d[[outcome]]
  d <- did_terms(d, ref, months)
  others <- setdiff(months, ref)
  dn <- sapply(others, dname)
  if (fe == "person") {
    d$fmonth <- relevel(factor(d$month), ref = as.character(ref))
    rhs <- paste(c("factor(person)", "fmonth", dn), collapse = " + ")
  } else {
    d$cm <- factor(paste(d$cohort, d$month))
    rhs <- paste(c("0", "cm", "treated", dn), collapse = " + ")
  }
  fit <- lm(as.formula(paste("y ~", rhs)), data = d, weights = weight)
  V <- vcovCL(fit, cluster = ~person, type = "HC0", cadjust = TRUE)
  for (m in others) {
    put("did", "estimate", unname(coef(fit)[dname(m)]), outcome, label, "month", time = m)
    put("did", "se_hc0_cadjust", sqrt(V[dname(m), dname(m)]), outcome, label, "month", time = m)
  }
  a <- setNames(rep(1 / length(post), length(post)), sapply(post, dname))
  put("did", "estimate", sum(a * coef(fit)[names(a)]), outcome, label, "pooled")
  put("did", "se_hc0_cadjust", sqrt(drop(t(a) %*% V[names(a), names(a)] %*% a)), outcome, label, "pooled")
  put("did", "nobs", nrow(d), outcome, label, "pooled")
}

months <- -6:6
for (outcome in c("employed_1h", "employed_12h")) {
  did_block("primary", panel, outcome, -3, months, 1:6)
  did_block("placebo", panel, outcome, -6, -6:-4, -5:-4)
  u <- panel
  u$weight <- 1
  did_block("unweighted", u, outcome, -3, months, 1:6)
}
fe_block("person_fe", panel, "employed_1h", -3, months, 1:6, "person")
fe_block("cohort_month_fe", panel, "employed_1h", -3, months, 1:6, "cohort_month")

# ---------------------------------------------------------------------------------------------
# Survival: job and work.
for (outcome in c("job", "work")) {
  s <- surv
  s$time <- s[[paste0("time_", outcome)]]
  s$event <- s[[paste0("event_", outcome)]]

  # Cox, Efron ties, matching weights, robust variance clustered on person.
  cox_out <- function(fit, model) {
    b <- coef(fit)
    se <- sqrt(diag(fit$var))
    nse <- sqrt(diag(fit$naive.var))
    for (k in seq_along(b)) {
      term <- names(b)[k]
      put("cox", "coef", b[k], outcome, model, term)
      put("cox", "robust_se", se[k], outcome, model, term)
      put("cox", "naive_se", nse[k], outcome, model, term)
      put("cox", "hr", exp(b[k]), outcome, model, term)
      put("cox", "ci_low", exp(b[k] - qnorm(0.975) * se[k]), outcome, model, term)
      put("cox", "ci_high", exp(b[k] + qnorm(0.975) * se[k]), outcome, model, term)
      put("cox", "p", 2 * pnorm(-abs(b[k] / se[k])), outcome, model, term)
    }
    put("cox", "loglik_null", fit$loglik[1], outcome, model)
    put("cox", "loglik", fit$loglik[2], outcome, model)
    put("cox", "robust_score", fit$rscore, outcome, model)
    put("cox", "n", fit$n, outcome, model)
    put("cox", "events", fit$nevent, outcome, model)
  }
  fit <- coxph(Surv(time, event) ~ treated + strata(cohort), data = s, weights = weight, cluster = person)
  cox_out(fit, "primary")
  fit <- coxph(Surv(time, event) ~ treated + age + temporary_contract + factor(sector) + strata(cohort),
               data = s, weights = weight, cluster = person)
  cox_out(fit, "adjusted")
  fit <- coxph(Surv(time, event) ~ treated, data = s, weights = weight, cluster = person)
  cox_out(fit, "unstratified")

  # Proportional hazards check: treated in months 0-6 and in months 7-12 (time-varying),
  # via survSplit on times shifted by one (an event at time 0 needs start < stop; shifting
  # every time by the same amount leaves the partial likelihood unchanged).
  s1 <- s
  s1$time1 <- s1$time + 1
  sp <- survSplit(Surv(time1, event) ~ ., data = s1, cut = 7, episode = "period")
  sp$early <- sp$treated * (sp$period == 1)
  sp$late <- sp$treated * (sp$period == 2)
  fit <- coxph(Surv(tstart, time1, event) ~ early + late + strata(cohort), data = sp,
               weights = weight, cluster = person)
  put("ph", "coef", coef(fit)["early"], outcome, "split6", "early")
  put("ph", "coef", coef(fit)["late"], outcome, "split6", "late")
  put("ph", "var", fit$var[1, 1], outcome, "split6", "early")
  put("ph", "var", fit$var[2, 2], outcome, "split6", "late")
  put("ph", "cov", fit$var[1, 2], outcome, "split6", "early_late")

  # Discrete time: person-months 0..time, complementary log-log with month dummies.
  pm <- s[rep(seq_len(nrow(s)), s$time + 1), c("unit", "person", "treated", "weight", "time", "event")]
  pm$month <- sequence(s$time + 1) - 1
  pm$y <- as.integer(pm$event == 1 & pm$month == pm$time)
  fit <- suppressWarnings(glm(y ~ factor(month) + treated, data = pm, weights = weight,
                              family = binomial(link = "cloglog"), control = glm.control(epsilon = 1e-14, maxit = 100)))
  V <- vcovCL(fit, cluster = ~person, type = "HC0", cadjust = TRUE)
  put("cloglog", "coef", coef(fit)["treated"], outcome, "months", "treated")
  put("cloglog", "se_hc0_cadjust", sqrt(V["treated", "treated"]), outcome, "months", "treated")
  put("cloglog", "nobs", nrow(pm), outcome, "months", "treated")

  # Kaplan-Meier by group: weighted, robust (infinitesimal jackknife) variance clustered on
  # person, log-log interval. For robust fits std.err is the SE of S itself (logse FALSE).
  for (g in c(0, 1)) {
    sg <- s[s$treated == g, ]
    km <- survfit(Surv(time, event) ~ 1, data = sg, weights = weight, id = unit, cluster = person,
                  robust = TRUE, influence = TRUE, conf.type = "log-log")
    if (km$logse) stop("expected the robust standard error of S on the natural scale")
    grp <- ifelse(g == 1, "treated", "control")
    for (k in seq_along(km$time)) {
      put("km", "n_risk_weighted", km$n.risk[k], outcome, "", "", grp, km$time[k])
      put("km", "n_event_weighted", km$n.event[k], outcome, "", "", grp, km$time[k])
      put("km", "survival", km$surv[k], outcome, "", "", grp, km$time[k])
      put("km", "se", km$std.err[k], outcome, "", "", grp, km$time[k])
      put("km", "ci_low", km$lower[k], outcome, "", "", grp, km$time[k])
      put("km", "ci_high", km$upper[k], outcome, "", "", grp, km$time[k])
    }
    # RMST at horizon 12 and its influence-function variance summed over persons
    # (influence.surv rows are already collapsed over the cluster = person).
    h <- 12
    keep <- km$time < h & km$n.event > 0
    tj <- km$time[keep]
    sj <- km$surv[keep]
    dj <- diff(c(tj, h))
    rmst <- (if (length(tj)) tj[1] else h) + sum(sj * dj)
    infl <- km$influence.surv[, keep, drop = FALSE]
    IF <- drop(infl %*% dj)
    put("rmst", "rmst", rmst, outcome, "", "", grp, h)
    put("rmst", "variance", sum(IF^2), outcome, "", "", grp, h)
    # What print() shows, for the record only (it ignores robust, id and clustering).
    put("rmst", "print_se_rmean", summary(km, rmean = h)$table[["se(rmean)"]], outcome, "", "", grp, h)
  }
}

res <- do.call(rbind, out)
write.csv(res, file.path(here, "effects_R_output.csv"), row.names = FALSE, quote = TRUE)
cat("wrote", nrow(res), "rows to", file.path(here, "effects_R_output.csv"), "\n")
