# Independent re-runs of BOIN's get.oc for the scenarios in which a cell of boin_get_oc.csv
# (seed 6) fell beyond 2 Monte-Carlo standard errors of the exact operating characteristics
# (docs/designs.md §10.3): the same settings with seed 7, to tell BOIN's Monte-Carlo error from a
# difference of method. Run from this folder:
#   Rscript boin_get_oc_rerun.R <library with BOIN installed>
# Writes boin_get_oc_rerun.csv.
args <- commandArgs(trailingOnly = TRUE)
lib <- if (length(args) >= 1) args[1] else .libPaths()[1]
library(BOIN, lib.loc = lib)
version <- paste("BOIN", as.character(packageVersion("BOIN", lib.loc = lib)))
scenarios <- list(
  list(name = "s1", target = 0.3, p = c(0.05, 0.15, 0.3, 0.45, 0.6), ncohort = 10,
       nearly = 100, extrasafe = FALSE, ntrial = 50000),
  list(name = "s2", target = 0.25, p = c(0.02, 0.06, 0.1, 0.25, 0.4, 0.55), ncohort = 12,
       nearly = 12, extrasafe = FALSE, ntrial = 50000)
)
out <- list()
for (s in scenarios) {
  oc <- get.oc(target = s$target, p.true = s$p, ncohort = s$ncohort, cohortsize = 3,
               n.earlystop = s$nearly, extrasafe = s$extrasafe, ntrial = s$ntrial, seed = 7)
  k <- length(s$p)
  out[[length(out) + 1]] <- data.frame(
    scenario = s$name, target = s$target, p_true = paste(s$p, collapse = " "),
    ncohort = s$ncohort, n_earlystop = s$nearly, extrasafe = s$extrasafe, ntrial = s$ntrial,
    seed = 7, dose = 1:k, selpercent = oc$selpercent, npatients = oc$npatients,
    ntox = oc$ntox, percentstop = oc$percentstop
  )
}
path <- "boin_get_oc_rerun.csv"
writeLines(c(paste("#", version, "-", R.version.string),
             "# get.oc(target, p.true, ncohort, cohortsize = 3, n.earlystop, extrasafe, ntrial, seed = 7)"),
           path)
suppressWarnings(write.table(do.call(rbind, out), path, sep = ",", row.names = FALSE,
                             append = TRUE, quote = FALSE))
