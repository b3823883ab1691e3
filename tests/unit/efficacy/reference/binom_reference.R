# Reference exact (Clopper-Pearson) intervals for tests/unit/efficacy/test_response_rates.py.
#
# Run from this folder:  Rscript binom_reference.R
# Writes binom_test.csv: for each (x, n, conf.level), R's binom.test(x, n)$conf.int, printed to
# 17 significant digits, with the R version in binom_versions.csv.

versions <- data.frame(item = "R", version = R.version.string)
print(versions)
write.csv(versions, "binom_versions.csv", row.names = FALSE)

g17 <- function(x) sprintf("%.17g", x)
cases <- list()
for (n in c(1, 2, 3, 6, 10, 12, 20, 29, 30, 50, 100)) {
  for (x in sort(unique(c(0, 1, 2, floor(n / 3), floor(n / 2), n - 1, n)))) {
    if (x < 0 || x > n) next
    for (level in c(0.95, 0.90)) {
      ci <- binom.test(x, n, conf.level = level)$conf.int
      cases[[length(cases) + 1]] <- data.frame(
        x = x, n = n, conf_level = level, lower = g17(ci[1]), upper = g17(ci[2])
      )
    }
  }
}
out <- do.call(rbind, cases)
write.csv(out, "binom_test.csv", row.names = FALSE)
print(nrow(out))
