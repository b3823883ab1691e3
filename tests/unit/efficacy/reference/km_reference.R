# Reference Kaplan-Meier results for tests/unit/efficacy/test_survival_vs_r.py.
#
# Run from this folder:  Rscript km_reference.R
# It writes the datasets it uses (shipped with the R package survival) as CSV, and what R's
# survfit computes on them: every step of the curve (km_rows.csv), the median and its interval
# as print.survfit and quantile.survfit give them (km_medians.csv), the curve at chosen times
# (km_at_times.csv), and the versions used (versions.csv).
#
# Groups: veteran (ties; trt 2 has S exactly 0.5 on a flat stretch: median 52.5), aml (ties;
# S reaches 0 in the Nonmaintained group; the log upper band is not monotone), gbsg (an event
# and a censoring tied at the median, 1807), ovarian (rx 2: median not reached), lung (status
# coded 1/2), tail05 (4 made-up subjects: S ends exactly at 0.5). Each with conf.type "log"
# (survfit's default) and "log-log".

suppressPackageStartupMessages(library(survival))

versions <- data.frame(
  item = c("R", "survival"),
  version = c(R.version.string, as.character(packageVersion("survival")))
)
print(versions)
write.csv(versions, "versions.csv", row.names = FALSE)

g17 <- function(x) ifelse(is.na(x), "NA", ifelse(is.infinite(x), "Inf", sprintf("%.17g", x)))

datasets <- list(
  veteran = data.frame(time = veteran$time, status = veteran$status, group = veteran$trt),
  aml = data.frame(time = aml$time, status = aml$status, group = as.character(aml$x)),
  gbsg = data.frame(time = gbsg$rfstime, status = gbsg$status, group = 0),
  ovarian = data.frame(time = ovarian$futime, status = ovarian$fustat, group = ovarian$rx),
  lung = data.frame(time = lung$time, status = lung$status - 1, group = lung$sex),
  # Made here, not shipped with survival: S ends exactly at 0.5, where print.survfit (2) and
  # quantile.survfit (3, the midpoint with the last follow-up) differ.
  tail05 = data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 0, 0), group = 0)
)
at_times <- list(
  veteran = c(0, 1, 30, 52, 90, 180, 365, 999, 1000),
  aml = c(0, 5, 10, 27, 50, 100, 161, 200),
  gbsg = c(0, 72, 365, 730, 1807, 2000, 3000),
  ovarian = c(0, 59, 100, 365, 638, 1000, 1500),
  lung = c(0, 5, 100, 310, 500, 1000, 2000),
  tail05 = c(0, 1, 2, 4, 5)
)

rows <- list(); medians <- list(); points <- list()
for (name in names(datasets)) {
  write.csv(datasets[[name]], paste0(name, ".csv"), row.names = FALSE)
  d <- datasets[[name]]
  subsets <- list(all = rep(TRUE, nrow(d)))
  if (!(name %in% c("gbsg", "tail05"))) {  # gbsg (686 subjects) whole, to keep the output small
    subsets <- c(subsets, setNames(lapply(sort(unique(d$group)), function(g) d$group == g),
                                   paste0("group=", sort(unique(d$group)))))
  }
  for (subset in names(subsets)) {
    s <- d[subsets[[subset]], ]
    for (ct in c("log", "log-log")) {
      fit <- survfit(Surv(time, status) ~ 1, data = s, conf.type = ct)
      rows[[length(rows) + 1]] <- data.frame(
        dataset = name, subset = subset, conf_type = ct, time = g17(fit$time),
        n_risk = fit$n.risk, n_event = fit$n.event, n_censor = fit$n.censor,
        surv = g17(fit$surv), std_err = g17(fit$std.err), lower = g17(fit$lower),
        upper = g17(fit$upper)
      )
      tab <- summary(fit)$table
      q <- quantile(fit, 0.5)
      rev <- survfit(Surv(time, 1 - status) ~ 1, data = s, conf.type = ct)
      rtab <- summary(rev)$table
      medians[[length(medians) + 1]] <- data.frame(
        dataset = name, subset = subset, conf_type = ct,
        n = tab[["n.start"]], events = tab[["events"]],
        median = g17(tab[["median"]]), lcl = g17(tab[["0.95LCL"]]), ucl = g17(tab[["0.95UCL"]]),
        quantile_median = g17(q$quantile), quantile_lcl = g17(q$lower),
        quantile_ucl = g17(q$upper),
        followup_median = g17(rtab[["median"]]), followup_lcl = g17(rtab[["0.95LCL"]]),
        followup_ucl = g17(rtab[["0.95UCL"]])
      )
      sm <- summary(fit, times = at_times[[name]], extend = TRUE)
      points[[length(points) + 1]] <- data.frame(
        dataset = name, subset = subset, conf_type = ct, time = g17(sm$time),
        n_risk = sm$n.risk, surv = g17(sm$surv), std_err = g17(sm$std.err),
        lower = g17(sm$lower), upper = g17(sm$upper)
      )
    }
  }
}
write.csv(do.call(rbind, rows), "km_rows.csv", row.names = FALSE)
write.csv(do.call(rbind, medians), "km_medians.csv", row.names = FALSE)
write.csv(do.call(rbind, points), "km_at_times.csv", row.names = FALSE)
print(do.call(rbind, medians)[, c("dataset", "subset", "conf_type", "median", "lcl", "ucl",
                                   "quantile_ucl", "followup_median")])
