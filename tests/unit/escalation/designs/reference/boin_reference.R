# Reference results from the R package BOIN (Yan et al., J Stat Softw 2020;94(13)) for the
# project's BOIN tests. Run from this folder:
#   Rscript boin_reference.R <library with BOIN installed>
# Writes boin_boundaries.csv, boin_select_mtd.csv, boin_select_mtd_example.txt, boin_get_oc.csv.
args <- commandArgs(trailingOnly = TRUE)
lib <- if (length(args) >= 1) args[1] else .libPaths()[1]
library(BOIN, lib.loc = lib)
version <- paste("BOIN", as.character(packageVersion("BOIN", lib.loc = lib)))
header <- function(path, what) {
  writeLines(c(paste("#", version, "-", R.version.string), paste("#", what)), path)
}

# 1. Boundaries for n = 1..30 (cohort size 1 tabulates every n), targets 0.25 and 0.30.
rows <- list()
for (target in c(0.25, 0.30)) {
  for (extrasafe in c(FALSE, TRUE)) {
    b <- get.boundary(target = target, ncohort = 30, cohortsize = 1, extrasafe = extrasafe)
    tab <- b$boundary_tab
    stop_row <- if (extrasafe) b$stop_boundary[2, ] else rep(NA, ncol(tab))
    rows[[length(rows) + 1]] <- data.frame(
      target = target, extrasafe = extrasafe, n = tab[1, ], escalate_if_le = tab[2, ],
      deescalate_if_ge = tab[3, ], eliminate_if_ge = tab[4, ], stop_lowest_if_ge = stop_row,
      lambda_e = sprintf("%.15f", b$lambda_e), lambda_d = sprintf("%.15f", b$lambda_d)
    )
  }
}
path <- "boin_boundaries.csv"
header(path, "get.boundary(target, ncohort = 30, cohortsize = 1, extrasafe)")
suppressWarnings(write.table(do.call(rbind, rows), path, sep = ",", row.names = FALSE,
                             append = TRUE, quote = FALSE))

# 2. select.mtd: the documented example, then random data sets (seeded) with boundMTD off/on.
path <- "boin_select_mtd_example.txt"
n <- c(3, 3, 15, 9, 0)
y <- c(0, 0, 4, 4, 0)
sel <- select.mtd(target = 0.3, npts = n, ntox = y)
writeLines(c(paste("#", version), "# select.mtd(target=0.3, npts=c(3,3,15,9,0), ntox=c(0,0,4,4,0))",
             paste("MTD", sel$MTD), paste("phat", paste(sel$p_est$phat, collapse = " ")),
             paste("p_overdose", paste(sel$p_overdose, collapse = " "))), path)

set.seed(20260301)
cases <- list()
for (i in 1:400) {
  ndose <- sample(3:6, 1)
  target <- sample(c(0.2, 0.25, 0.3, 0.33), 1)
  n <- sample(c(0, 0, 1, 2, 3, 3, 6, 6, 9, 12, 15), ndose, replace = TRUE)
  p <- sort(runif(ndose, 0, 0.7))
  y <- rbinom(ndose, n, p)
  for (bound in c(FALSE, TRUE)) {
    for (extrasafe in c(FALSE, TRUE)) {
      mtd <- select.mtd(target = target, npts = n, ntox = y, boundMTD = bound,
                        extrasafe = extrasafe)$MTD
      cases[[length(cases) + 1]] <- data.frame(
        case = i, target = target, n = paste(n, collapse = " "), y = paste(y, collapse = " "),
        boundMTD = bound, extrasafe = extrasafe, mtd = mtd
      )
    }
  }
}
# Exact ties of the isotonic estimates, where the 1e-10 x dose tie-break decides.
ties <- list(list(c(3, 3, 3), c(1, 1, 1)), list(c(6, 6, 3), c(2, 2, 1)),
             list(c(3, 6, 6), c(0, 1, 1)), list(c(3, 3, 6, 6), c(2, 1, 2, 2)),
             list(c(6, 3, 0), c(3, 1, 0)), list(c(3, 3, 3, 3), c(0, 1, 1, 0)))
for (t in ties) {
  for (target in c(0.25, 0.3)) {
    mtd <- select.mtd(target = target, npts = t[[1]], ntox = t[[2]])$MTD
    cases[[length(cases) + 1]] <- data.frame(
      case = 0, target = target, n = paste(t[[1]], collapse = " "),
      y = paste(t[[2]], collapse = " "), boundMTD = FALSE, extrasafe = FALSE, mtd = mtd
    )
  }
}
path <- "boin_select_mtd.csv"
header(path, "select.mtd(target, npts = n, ntox = y, boundMTD, extrasafe); 99 = no MTD")
suppressWarnings(write.table(do.call(rbind, cases), path, sep = ",", row.names = FALSE,
                             append = TRUE, quote = FALSE))

# 3. get.oc: the documented example (ntrial = 1000, seed 6) and larger runs for the OC tests.
scenarios <- list(
  list(name = "rd_example", target = 0.3, p = c(0.05, 0.15, 0.3, 0.45, 0.6), ncohort = 20,
       nearly = 100, extrasafe = FALSE, ntrial = 1000),
  list(name = "s1", target = 0.3, p = c(0.05, 0.15, 0.3, 0.45, 0.6), ncohort = 10,
       nearly = 100, extrasafe = FALSE, ntrial = 50000),
  list(name = "s2", target = 0.25, p = c(0.02, 0.06, 0.1, 0.25, 0.4, 0.55), ncohort = 12,
       nearly = 12, extrasafe = FALSE, ntrial = 50000),
  list(name = "s3", target = 0.3, p = c(0.3, 0.45, 0.55, 0.65, 0.75), ncohort = 10,
       nearly = 100, extrasafe = TRUE, ntrial = 50000),
  list(name = "s4", target = 0.3, p = c(0.1, 0.15, 0.2, 0.25, 0.3), ncohort = 10,
       nearly = 100, extrasafe = FALSE, ntrial = 20000)
)
out <- list()
for (s in scenarios) {
  started <- proc.time()[["elapsed"]]
  oc <- get.oc(target = s$target, p.true = s$p, ncohort = s$ncohort, cohortsize = 3,
               n.earlystop = s$nearly, extrasafe = s$extrasafe, ntrial = s$ntrial, seed = 6)
  elapsed <- proc.time()[["elapsed"]] - started
  k <- length(s$p)
  out[[length(out) + 1]] <- data.frame(
    scenario = s$name, target = s$target, p_true = paste(s$p, collapse = " "),
    ncohort = s$ncohort, n_earlystop = s$nearly, extrasafe = s$extrasafe, ntrial = s$ntrial,
    seed = 6, dose = 1:k, selpercent = oc$selpercent, npatients = oc$npatients,
    ntox = oc$ntox, totaln = oc$totaln, totaltox = oc$totaltox, percentstop = oc$percentstop,
    overdose60 = if (is.null(oc$overdose60)) NA else oc$overdose60,
    overdose80 = if (is.null(oc$overdose80)) NA else oc$overdose80, seconds = elapsed
  )
}
path <- "boin_get_oc.csv"
header(path, "get.oc(target, p.true, ncohort, cohortsize = 3, n.earlystop, extrasafe, ntrial, seed = 6)")
suppressWarnings(write.table(do.call(rbind, out), path, sep = ",", row.names = FALSE,
                             append = TRUE, quote = FALSE))
