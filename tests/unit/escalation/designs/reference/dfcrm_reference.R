# Reference results from the R package dfcrm (Cheung) for the project's CRM tests: the documented
# examples of crm, getprior and titecrm (their Rd files), then seeded random data sets.
#   Rscript dfcrm_reference.R <library with dfcrm installed>
# Writes dfcrm_examples.txt and dfcrm_crm_cases.csv.
args <- commandArgs(trailingOnly = TRUE)
lib <- if (length(args) >= 1) args[1] else .libPaths()[1]
library(dfcrm, lib.loc = lib)
version <- paste("dfcrm", as.character(packageVersion("dfcrm", lib.loc = lib)))
num <- function(x) paste(sprintf("%.15g", x), collapse = " ")
lines <- c(paste("#", version, "-", R.version.string))
add <- function(key, value) lines <<- c(lines, paste(key, value))

# crm.Rd example
prior <- c(0.05, 0.10, 0.20, 0.35, 0.50, 0.70)
target <- 0.2
level <- c(3, 4, 4, 3, 3, 4, 3, 2, 2, 2)
y <- c(0, 0, 1, 0, 0, 1, 1, 0, 0, 0)
foo <- crm(prior, target, y, level)
add("crm.estimate", num(foo$estimate)); add("crm.post.var", num(foo$post.var))
add("crm.ptox", num(foo$ptox)); add("crm.mtd", foo$mtd)
foo <- crm(prior, target, y, level, model = "logistic")
add("crm_logistic.estimate", num(foo$estimate)); add("crm_logistic.ptox", num(foo$ptox))
add("crm_logistic.mtd", foo$mtd)

# getprior.Rd example (logistic), and the same call with the empiric (power) model
add("getprior_logistic", num(getprior(0.10, 0.25, 3, nlevel = 6, model = "logistic")))
add("getprior_empiric", num(getprior(0.10, 0.25, 3, nlevel = 6)))
add("getprior_empiric_0.05_0.3_4_5", num(getprior(0.05, 0.30, 4, nlevel = 5)))

# titecrm.Rd example
prior <- c(0.05, 0.10, 0.20, 0.35, 0.50, 0.70)
level <- c(3, 3, 3, 4, 4, 3, 2, 2, 2, 3)
y <- c(0, 0, 1, 0, 1, 0, 0, 0, 0, 0)
u <- c(178, 181, 168, 181, 24, 181, 179, 102, 42, 3)
foo <- titecrm(prior, target, y, level, followup = u, obswin = 180)
add("titecrm.weights", num(foo$weights)); add("titecrm.estimate", num(foo$estimate))
add("titecrm.ptox", num(foo$ptox)); add("titecrm.mtd", foo$mtd)
writeLines(lines, "dfcrm_examples.txt")

# Seeded random data sets: posterior mean of beta and the recommended dose, both models.
set.seed(20260302)
rows <- list()
for (i in 1:150) {
  k <- sample(4:6, 1)
  target <- sample(c(0.2, 0.25, 0.3), 1)
  skeleton <- getprior(0.05, target, sample(1:k, 1), nlevel = k)
  m <- sample(1:30, 1)
  level <- sort(sample(1:k, m, replace = TRUE))
  truth <- sort(runif(k, 0, 0.6))
  y <- rbinom(m, 1, truth[level])
  for (model in c("empiric", "logistic")) {
    if (model == "logistic" && any(log(skeleton / (1 - skeleton)) - 3 >= 0)) next
    fit <- crm(skeleton, target, y, level, model = model)
    rows[[length(rows) + 1]] <- data.frame(
      case = i, model = model, target = target, skeleton = num(skeleton),
      level = paste(level, collapse = " "), tox = paste(y, collapse = " "),
      estimate = sprintf("%.15g", fit$estimate), ptox = num(fit$ptox), mtd = fit$mtd
    )
  }
}
path <- "dfcrm_crm_cases.csv"
writeLines(c(paste("#", version, "-", R.version.string),
             "# crm(skeleton, target, tox, level, model) with scale = sqrt(1.34), method bayes"), path)
suppressWarnings(write.table(do.call(rbind, rows), path, sep = ",", row.names = FALSE,
                             append = TRUE, quote = FALSE))
