# Independent reference for the effect modifiers of mentorwijs.effects.modifiers: each level's
# pooled DiD and the interaction (level minus reference level) with CR2 / Satterthwaite inference
# from the stacked, fully interacted regression, computed with R (stats::lm, sandwich, clubSandwich).
#
# Run from the repository root:
#     Rscript tests/reference/modifiers_cr2.R
# It reads tests/reference/effects_data.csv (the reference panel) and
# tests/reference/modifier_pairs_data.csv (make_modifier_pairs.py: trainees re-matched within the
# levels of temporary_contract; some control persons are controls in both levels) and writes
# tests/reference/modifiers_cr2_R_output.csv, one number per row:
#     outcome, method, level, quantity, value
# The first rows (outcome "meta") state the R, sandwich and clubSandwich versions.
#
# The panel of a level: its trainee units weighing 1 and its control units weighing the sum of
# their pair weights (observed person-months with a value, months -6..6, reference month -3,
# pooled over months 1..6). Per level (own lm): estimate and se_cr1 (vcovCL HC1, as did_cr2.R).
# Stacked over both levels, clustered on person across them:
#   matched:  y ~ 0 + lev:month + lev:month:treated
#   adjusted: y ~ 0 + lev:month + lev:month:treated + lev:month:age
#                 + lev:month:sector_nonprofit + lev:month:sector_private
#             (the modifier's own column, constant within a level, is left out)
# se_cr2 and df (vcovCR CR2 and the Satterthwaite df of linear_contrast) of each level's pooled
# effect and of the interaction. clubSandwich 0.5.8's linear_contrast() fails for a weighted lm;
# contrast_df() is the workaround of did_cr2.R. For the level rows it is cross-checked against the
# level's own lm (the stacked fit is block-diagonal, so CR2 and df must agree).

suppressPackageStartupMessages({
  library(sandwich)
  library(clubSandwich)
})

here <- "tests/reference"
data <- read.csv(file.path(here, "effects_data.csv"), stringsAsFactors = FALSE)
pairs <- read.csv(file.path(here, "modifier_pairs_data.csv"), stringsAsFactors = FALSE,
                  colClasses = c(level = "character"))
panel <- data[data$part == "panel", ]
units <- data[data$part == "survival", c("unit", "age", "temporary_contract", "sector")]
panel <- merge(panel[, setdiff(names(panel), c("age", "temporary_contract", "sector"))], units, by = "unit")
panel$sector_nonprofit <- as.numeric(panel$sector == "nonprofit")
panel$sector_private <- as.numeric(panel$sector == "private")

out <- list()
put <- function(outcome, method, level, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(
    outcome = outcome, method = method, level = level, quantity = quantity,
    value = if (is.character(value)) value else trimws(formatC(value, digits = 15, format = "g")),
    stringsAsFactors = FALSE
  )
}
put("meta", "", "", "R_version", paste(R.version$major, R.version$minor, sep = "."))
put("meta", "", "", "sandwich_version", as.character(packageVersion("sandwich")))
put("meta", "", "", "clubSandwich_version", as.character(packageVersion("clubSandwich")))

contrast_df <- function(fit, V2, v) {  # as in did_cr2.R
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

months <- -6:6
ref <- -3
post <- 1:6
levels <- sort(unique(pairs$level))

level_panel <- function(lev, outcome) {
  p <- pairs[pairs$level == lev, ]
  cw <- tapply(p$weight, p$control_unit, sum)
  tr <- panel[panel$treated == 1 & panel$unit %in% p$treated_unit, ]
  tr$weight <- 1
  co <- panel[panel$treated == 0 & panel$unit %in% names(cw), ]
  co$weight <- as.numeric(cw[co$unit])
  d <- rbind(tr, co)
  d <- d[d$month %in% months & d$observed == 1 & !is.na(d[[outcome]]), ]
  d$y <- d[[outcome]]
  d$lev <- factor(lev, levels = levels)
  d$fmonth <- factor(d$month, levels = months)
  d
}

rhs_of <- function(method, term) {
  rhs <- paste0("0 + ", term, " + ", term, ":treated")
  if (method == "adjusted") {
    rhs <- paste(rhs, paste0("+ ", term, ":", c("age", "sector_nonprofit", "sector_private"), collapse = " "))
  }
  rhs
}

# weights on the coefficients "<prefix><month>:treated" of the pooled effect (mean over post
# minus the reference month)
pooled_weights <- function(prefix) {
  w <- setNames(rep(0, length(months)), paste0(prefix, months, ":treated"))
  w[paste0(prefix, post, ":treated")] <- 1 / length(post)
  w[paste0(prefix, ref, ":treated")] <- -1
  w
}

for (outcome in c("employed_1h", "employed_12h")) {
  for (method in c("matched", "adjusted")) {
    parts <- lapply(levels, level_panel, outcome = outcome)
    own <- list()
    for (i in seq_along(levels)) {
      d <- parts[[i]]
      d <- d[order(d$person, d$unit, d$month), ]
      fit <- lm(as.formula(paste("y ~", rhs_of(method, "fmonth"))), data = d, weights = weight)
      stopifnot(!any(is.na(coef(fit))))
      w <- pooled_weights("fmonth")
      v <- setNames(rep(0, length(coef(fit))), names(coef(fit)))
      v[names(w)] <- w
      V1 <- vcovCL(fit, cluster = ~person, type = "HC1")
      V2 <- vcovCR(fit, cluster = d$person, type = "CR2")
      own[[i]] <- c(se_cr2 = sqrt(drop(t(v) %*% V2 %*% v)), df = contrast_df(fit, V2, v))
      put(outcome, method, levels[i], "estimate", sum(v * coef(fit)))
      put(outcome, method, levels[i], "se_cr1", sqrt(drop(t(v) %*% V1 %*% v)))
      put(outcome, method, levels[i], "clusters", length(unique(d$person)))
    }
    s <- do.call(rbind, parts)
    s <- s[order(s$person, s$lev, s$unit, s$month), ]
    s$lm <- interaction(s$lev, s$fmonth, sep = "_m", lex.order = TRUE)
    fit <- lm(as.formula(paste("y ~", rhs_of(method, "lm"))), data = s, weights = weight)
    stopifnot(!any(is.na(coef(fit))))
    V2 <- vcovCR(fit, cluster = s$person, type = "CR2")
    level_v <- function(lev) {
      w <- pooled_weights(paste0("lm", lev, "_m"))
      v <- setNames(rep(0, length(coef(fit))), names(coef(fit)))
      stopifnot(all(names(w) %in% names(v)))
      v[names(w)] <- w
      v
    }
    for (i in seq_along(levels)) {
      v <- level_v(levels[i])
      se <- sqrt(drop(t(v) %*% V2 %*% v))
      df <- contrast_df(fit, V2, v)
      stopifnot(abs(se - own[[i]]["se_cr2"]) < 1e-10, abs(df - own[[i]]["df"]) < 1e-6 * df)
      put(outcome, method, levels[i], "se_cr2", se)
      put(outcome, method, levels[i], "df", df)
    }
    for (lev in levels[-1]) {
      v <- level_v(lev) - level_v(levels[1])
      put(outcome, method, lev, "interaction", sum(v * coef(fit)))
      put(outcome, method, lev, "interaction_se_cr2", sqrt(drop(t(v) %*% V2 %*% v)))
      put(outcome, method, lev, "interaction_df", contrast_df(fit, V2, v))
    }
    put(outcome, method, "", "stacked_clusters", length(unique(s$person)))
  }
}

result <- do.call(rbind, out)
write.csv(result, file.path(here, "modifiers_cr2_R_output.csv"), row.names = FALSE)
