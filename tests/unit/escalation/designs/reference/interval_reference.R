# Reference decision tables for mTPI-2 (Guo et al., Contemp Clin Trials 2017;58:23-33) and i3+3
# (Liu, Wang & Ji, J Biopharm Stat 2020;30:294-304) from the authors' R package FIND
# (Ji & Zhang; github oliviazhang0416/FIND). FIND imports plotting packages that are not installed
# here, so only the two decision functions are sourced from its R/ folder (not copied anywhere).
#   Rscript interval_reference.R <FIND source folder> <FIND version> <FIND commit>
# Writes mtpi2_tables.csv and i3plus3_tables.csv (n = 3..30: FIND tabulates from n = 3).
args <- commandArgs(trailingOnly = TRUE)
src <- args[1]
version <- paste("FIND", args[2], "commit", args[3])
source(file.path(src, "R", "get_decision_mtpi2.R"))
source(file.path(src, "R", "get_decision_i3plus3.R"))
settings <- list(list(pT = 0.25, EI = c(0.20, 0.30)), list(pT = 0.30, EI = c(0.25, 0.35)))
for (design in c("mtpi2", "i3plus3")) {
  rows <- list()
  for (s in settings) {
    f <- if (design == "mtpi2") get_decision_mtpi2 else get_decision_i3plus3
    tab <- f(pT = s$pT, EI = s$EI, npts = 30)$tab
    rows[[length(rows) + 1]] <- data.frame(target = s$pT, ei_low = s$EI[1], ei_high = s$EI[2],
                                           n = tab$n, y = tab$y, decision = tab$Decision)
  }
  path <- paste0(design, "_tables.csv")
  writeLines(c(paste("#", version, "-", R.version.string),
               paste0("# get_decision_", design, "(pT, EI, npts = 30)$tab")), path)
  suppressWarnings(write.table(do.call(rbind, rows), path, sep = ",", row.names = FALSE,
                               append = TRUE, quote = FALSE))
}
