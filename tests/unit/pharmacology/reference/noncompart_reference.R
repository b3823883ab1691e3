# Reference NCA results for pharmacology/rules/nca.py, computed with the NonCompart R package
# (K.-S. Bae, GPL-3; Kim H, Han S, Cho YS, Yoon SK, Bae KS, "Development of R packages:
# 'NonCompart' and 'ncar' for noncompartmental analysis (NCA)", Transl Clin Pharmacol
# 2018;26(1):10-15, doi:10.12793/tcp.2018.26.1.10, whose authors report that it reproduces the
# results of Phoenix WinNonlin). NonCompart is only run here to compute the numbers; it is not
# part of the project. Data: R's datasets::Theoph and datasets::Indometh (the same data that
# export_datasets.R writes to theoph.csv and indometh.csv).
#
# Run from this directory, with NonCompart installed in a library of your choice:
#   R_LIBS=/path/to/Rlib Rscript noncompart_reference.R
# Writes noncompart_<data set>_<AUC method>.csv: one row per subject, NonCompart's own
# parameter names (CDISC PPTESTCD), each number with the fewest significant digits (15 to 17)
# that read back as the same double, after "#" lines naming the versions.
suppressPackageStartupMessages(library(NonCompart))

versions <- c(
  paste0("# ", R.version.string),
  paste0("# NonCompart ", as.character(utils::packageVersion("NonCompart")),
         " (tblNCA, automatic lambda_z: best adjusted R^2, R2ADJ = 0, excludeDelta = 1)")
)
cat(versions, sep = "\n")

# The parameters the project derives (docs/pharmacology.md §2), in NonCompart's names.
common <- c("LAMZNPT", "LAMZLL", "LAMZUL", "b0", "CLSTP", "R2", "R2ADJ", "LAMZ", "LAMZHL",
            "TMAX", "CMAX", "TLST", "CLST", "AUCLST", "AUCALL", "AUCIFO", "AUCPEO",
            "AUMCLST", "AUMCIFO")
oral <- c(common, "VZFO", "CLFO", "MRTEVIFO")
intravascular <- c(common, "VZO", "CLO", "MRTIVIFO", "VSSO")

as_profiles <- function(data, time) {
  data <- as.data.frame(data)
  data$Subject <- as.integer(as.character(data$Subject))
  data[order(data$Subject, data[[time]]), ]
}
theoph <- as_profiles(datasets::Theoph, "Time")
indometh <- as_profiles(datasets::Indometh, "time")

exact <- function(value) {
  vapply(value, function(v) {
    for (digits in 15:17) {
      text <- sprintf("%.*g", digits, v)
      if (as.numeric(text) == v) break
    }
    text
  }, "")
}

write_case <- function(result, columns, file) {
  out <- data.frame(subject = result$Subject)
  for (column in columns) out[[column]] <- exact(as.numeric(result[[column]]))
  writeLines(versions, file)
  suppressWarnings(write.table(out, file, sep = ",", quote = FALSE, row.names = FALSE,
                               append = TRUE))
  cat("wrote", file, "\n")
}

# Theoph: oral, 320 mg for every subject; concentrations measured from time 0 (mg/L, h).
for (down in c("Log", "Linear")) {
  result <- tblNCA(theoph, key = "Subject", colTime = "Time", colConc = "conc", dose = 320,
                   adm = "Extravascular", down = down, doseUnit = "mg", timeUnit = "h",
                   concUnit = "mg/L", R2ADJ = 0)
  method <- if (down == "Log") "lin_up_log_down" else "linear"
  write_case(result, oral, paste0("noncompart_theoph_", method, ".csv"))
}

# Indometh: 25 mg as a 0.25 h intravenous infusion (mg/L, h); C0 = 0 before the dose.
for (down in c("Log", "Linear")) {
  result <- tblNCA(indometh, key = "Subject", colTime = "time", colConc = "conc", dose = 25,
                   adm = "Infusion", dur = 0.25, down = down, doseUnit = "mg", timeUnit = "h",
                   concUnit = "mg/L", R2ADJ = 0)
  method <- if (down == "Log") "lin_up_log_down" else "linear"
  write_case(result, intravascular, paste0("noncompart_indometh_", method, ".csv"))
}
