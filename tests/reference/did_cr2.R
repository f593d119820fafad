# Independent reference for the regression-adjusted matched DiD and for CR2 / Satterthwaite
# inference of mentorwijs.effects.did, computed with R (stats::lm, sandwich, clubSandwich).
#
# Run from the repository root:
#     Rscript tests/reference/did_cr2.R
# It reads tests/reference/effects_data.csv (make_effects_data.py: a tied, weighted panel whose
# controls serve several trainees and whose control persons have several units) and writes
# tests/reference/did_cr2_R_output.csv, one number per row:
#     outcome, method, window, term, month, quantity, value
# The first rows (outcome "meta") state the R, sandwich and clubSandwich versions.
#
# Models (observed person-months with a value, weights = matching weights, clusters = person):
#   matched:  y ~ 0 + month + month:treated
#   adjusted: y ~ 0 + month + month:treated + month:age + month:temporary_contract
#                 + month:sector_nonprofit + month:sector_private
#             (sector as indicators against its first level in sorted order, "government")
# The effect in month m is coef(month m:treated) - coef(reference month:treated).
# Quantities: estimate; se_cr1 (vcovCL type HC1: G/(G-1) (N-1)/(N-K)); se_cr2 and df
# (vcovCR type CR2, clubSandwich's default working model for a weighted lm, and
# linear_contrast(test = "Satterthwaite")), per month and for the pooled mean over the window's
# follow-up months. Windows: "main" (months -6..6, reference -3, pooled 1..6) and "placebo"
# (months -6..-4, reference -6, pooled -5..-4).

suppressPackageStartupMessages({
  library(sandwich)
  library(clubSandwich)
})

here <- "tests/reference"
data <- read.csv(file.path(here, "effects_data.csv"), stringsAsFactors = FALSE)
panel <- data[data$part == "panel", ]
units <- data[data$part == "survival", c("unit", "age", "temporary_contract", "sector")]
panel <- merge(panel[, setdiff(names(panel), c("age", "temporary_contract", "sector"))], units, by = "unit")
panel$sector_nonprofit <- as.numeric(panel$sector == "nonprofit")
panel$sector_private <- as.numeric(panel$sector == "private")

out <- list()
put <- function(outcome, method, window, term, month, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(
    outcome = outcome, method = method, window = window, term = term,
    month = ifelse(is.na(month), "", as.character(month)), quantity = quantity,
    value = if (is.character(value)) value else trimws(formatC(value, digits = 15, format = "g")),
    stringsAsFactors = FALSE
  )
}
put("meta", "", "", "", NA, "R_version", paste(R.version$major, R.version$minor, sep = "."))
put("meta", "", "", "", NA, "sandwich_version", as.character(packageVersion("sandwich")))
put("meta", "", "", "", NA, "clubSandwich_version", as.character(packageVersion("clubSandwich")))

# clubSandwich 0.5.8's linear_contrast() fails for a weighted lm (its non-inverse-variance branch
# uses an undefined `q`; fixed in 0.6.0). This is that branch with q = 1, on the package's own
# internals (get_GH, array_multiply, get_P_array, Satterthwaite).
contrast_df <- function(fit, V2, v) {
  C <- matrix(v, nrow = 1)
  GH <- clubSandwich:::get_GH(fit, V2)
  GH$G <- lapply(GH$G, function(s) C %*% s)
  dims <- dim(GH$H)
  stopifnot(length(dims) == 4)
  H <- array(NA, dim = c(3, 1, dims[3:4]))
  for (i in 1:dims[1]) H[i, , , ] <- clubSandwich:::array_multiply(C, GH$H[i, , , ])
  GH$H <- H
  P <- clubSandwich:::get_P_array(GH = GH)
  est <- drop(C %*% coef(fit))
  clubSandwich:::Satterthwaite(beta = est, SE = sqrt(drop(C %*% V2 %*% t(C))), P_array = P)$df
}

block <- function(outcome, method, window, ref, months, post) {
  d <- panel[panel$month %in% months & panel$observed == 1 & !is.na(panel[[outcome]]), ]
  d <- d[order(d$person, d$unit, d$month), ]
  d$y <- d[[outcome]]
  d$fmonth <- factor(d$month, levels = months)
  rhs <- "0 + fmonth + fmonth:treated"
  if (method == "adjusted") {
    rhs <- paste(rhs, "+ fmonth:age + fmonth:temporary_contract + fmonth:sector_nonprofit + fmonth:sector_private")
  }
  fit <- lm(as.formula(paste("y ~", rhs)), data = d, weights = weight)
  stopifnot(!any(is.na(coef(fit))))
  V1 <- vcovCL(fit, cluster = ~person, type = "HC1")
  V2 <- vcovCR(fit, cluster = d$person, type = "CR2")
  tname <- paste0("fmonth", months, ":treated")
  contrast <- function(a) {  # a: weights on the months' effects
    v <- setNames(rep(0, length(coef(fit))), names(coef(fit)))
    v[tname] <- a
    v[paste0("fmonth", ref, ":treated")] <- v[paste0("fmonth", ref, ":treated")] - sum(a)
    v
  }
  report <- function(term, month, a) {
    v <- contrast(a)
    put(outcome, method, window, term, month, "estimate", sum(v * coef(fit)))
    put(outcome, method, window, term, month, "se_cr1", sqrt(drop(t(v) %*% V1 %*% v)))
    put(outcome, method, window, term, month, "se_cr2", sqrt(drop(t(v) %*% V2 %*% v)))
    put(outcome, method, window, term, month, "df", contrast_df(fit, V2, v))
  }
  for (m in setdiff(months, ref)) report("month", m, as.numeric(months == m))
  # Cross-check of the monthly rows with clubSandwich's public coef_test(): the same model with the
  # treated effect of each month measured from the reference month (one coefficient per effect).
  d$T <- d$treated
  for (m in setdiff(months, ref)) d[[paste0("T", m - min(months))]] <- d$treated * (d$month == m)
  tcols <- paste0("T", setdiff(months, ref) - min(months))
  rhs2 <- paste(c(sub("fmonth:treated", "T", rhs), tcols), collapse = " + ")
  fit2 <- lm(as.formula(paste("y ~", rhs2)), data = d, weights = weight)
  ct <- coef_test(fit2, vcov = vcovCR(fit2, cluster = d$person, type = "CR2"), test = "Satterthwaite", coefs = tcols)
  for (j in seq_along(tcols)) {
    m <- setdiff(months, ref)[j]
    v <- contrast(as.numeric(months == m))
    stopifnot(abs(ct$SE[j] - sqrt(drop(t(v) %*% V2 %*% v))) < 1e-9,
              abs(ct$df_Satt[j] - contrast_df(fit, V2, v)) < 1e-6 * ct$df_Satt[j])
  }
  report("pooled", NA, as.numeric(months %in% post) / length(post))
  put(outcome, method, window, "pooled", NA, "nobs", nrow(d))
  put(outcome, method, window, "pooled", NA, "clusters", length(unique(d$person)))
}

for (outcome in c("employed_1h", "employed_12h")) {
  for (method in c("matched", "adjusted")) {
    block(outcome, method, "main", -3, -6:6, 1:6)
    block(outcome, method, "placebo", -6, -6:-4, -5:-4)
  }
}

result <- do.call(rbind, out)
write.csv(result, file.path(here, "did_cr2_R_output.csv"), row.names = FALSE)
