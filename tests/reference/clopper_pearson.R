# Reference for mentorwijs.chain.clopper_pearson: exact (Clopper-Pearson) 95% intervals from
# R's binom.test. Run from the repository root: Rscript tests/reference/clopper_pearson.R
cases <- data.frame(successes = c(0, 3, 190, 200, 38, 9), n = c(10, 10, 200, 200, 40, 200))
rows <- data.frame(successes = NA, n = NA, quantity = "R_version", value = paste(R.version$major, R.version$minor, sep = "."))
for (i in seq_len(nrow(cases))) {
  ci <- binom.test(cases$successes[i], cases$n[i], conf.level = 0.95)$conf.int
  rows <- rbind(rows, data.frame(successes = cases$successes[i], n = cases$n[i], quantity = c("low", "high"),
                                 value = sprintf("%.15g", c(ci[1], ci[2]))))
}
write.csv(rows, "tests/reference/clopper_pearson_R_output.csv", row.names = FALSE)
