# Reference results for pharmacology/rules/summary.py, computed with base R (R 4.2, stats::lm,
# stats::confint). Run from this directory:  Rscript summary_reference.R
# Writes summary_reference.csv: one row per (case, quantity) with 17 significant digits.
options(digits = 17)
rows <- list()
add <- function(case, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity,
                                          value = format(value, digits = 17))
}

# Dose proportionality: the power model ln(PK) = a + b ln(dose), OLS, 90% CI of b.
doses <- c(0.01, 0.01, 0.01, 0.03, 0.03, 0.03, 0.1, 0.1, 0.1, 0.3, 0.3, 0.3, 0.45, 0.45, 0.45)
cases <- list(
  # AUC0-tau (ug*h/mL): close to proportional with between-subject scatter.
  proportional = c(1.9, 2.3, 2.1, 6.4, 5.8, 7.1, 20.5, 23.9, 18.7, 61.0, 66.2, 58.4,
                   93.1, 88.7, 101.5),
  # Cmax (ug/mL): more than proportional at the low end (target-mediated clearance).
  # AUClast with wide scatter: the CI straddles the (0.8, 1.25) limits.
  scattered = c(2.6, 1.5, 2.2, 5.1, 8.9, 6.0, 24.0, 15.8, 22.4, 71.0, 49.5, 60.2,
                110.3, 79.9, 96.0),
  supra = c(0.05, 0.07, 0.06, 0.31, 0.26, 0.35, 1.9, 2.2, 1.7, 8.8, 7.9, 9.6, 15.2, 13.9, 16.8)
)
for (name in names(cases)) {
  fit <- lm(log(cases[[name]]) ~ log(doses))
  ci <- confint(fit, level = 0.9)
  add(name, "intercept", unname(coef(fit)[1]))
  add(name, "slope", unname(coef(fit)[2]))
  add(name, "slope_se", summary(fit)$coefficients[2, 2])
  add(name, "slope_ci_low", ci[2, 1])
  add(name, "slope_ci_high", ci[2, 2])
}

# Descriptive statistics: geometric mean and CV% = 100 sqrt(exp(s^2) - 1), median, range,
# mean and SD.
x <- c(93.1, 88.7, 101.5, 61.0, 120.4)
add("geometric", "geometric_mean", exp(mean(log(x))))
add("geometric", "geometric_cv_percent", 100 * sqrt(exp(sd(log(x))^2) - 1))
add("geometric", "mean", mean(x))
add("geometric", "sd", sd(x))
add("geometric", "median", median(x))

out <- do.call(rbind, rows)
write.csv(out, "summary_reference.csv", row.names = FALSE)
