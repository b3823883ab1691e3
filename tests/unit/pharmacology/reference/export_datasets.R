# Writes the Theoph and Indometh data sets of R's `datasets` package (R 4.2, GPL-2 | GPL-3)
# as CSV for the NCA reference test. Run from this directory:
#   Rscript export_datasets.R
theoph <- datasets::Theoph
out <- data.frame(
  subject = as.integer(as.character(theoph$Subject)),
  weight_kg = theoph$Wt,
  dose_mg_per_kg = theoph$Dose,
  time_h = theoph$Time,
  conc_mg_per_L = theoph$conc
)
out <- out[order(out$subject, out$time_h), ]
write.csv(out, "theoph.csv", row.names = FALSE)

indometh <- datasets::Indometh
out <- data.frame(
  subject = as.integer(as.character(indometh$Subject)),
  time_h = indometh$time,
  conc_mg_per_L = indometh$conc
)
out <- out[order(out$subject, out$time_h), ]
write.csv(out, "indometh.csv", row.names = FALSE)
