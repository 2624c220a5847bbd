# R's svyciprop(method = "logit") on the api data shipped with the survey package: the reference
# figures of tests/stats/test_stats_logit.py. Run: Rscript tests/stats/r/svyciprop_logit.R
# (Debian: apt-get install r-cran-survey). Prints name, estimate, lower, upper with 10 digits.
suppressMessages(library(survey))
data(api)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
wonly <- svydesign(id = ~1, weights = ~pw, data = apistrat)
show <- function(name, ci) {
  cat(sprintf("%s %.10f %.10f %.10f\n", name, as.numeric(ci), attr(ci, "ci")[1], attr(ci, "ci")[2]))
}
cat("# survey", as.character(packageVersion("survey")), "\n")
show("dstrat_schwide_default_df", svyciprop(~I(sch.wide == "Yes"), dstrat, method = "logit"))
show("dstrat_schwide_df_inf", svyciprop(~I(sch.wide == "Yes"), dstrat, method = "logit", df = Inf))
show("wonly_improved_default_df", svyciprop(~I(api00 - api99 > 50), wonly, method = "logit"))
show("wonly_improved_df_inf", svyciprop(~I(api00 - api99 > 50), wonly, method = "logit", df = Inf))
# per stratum (svyby's default df for svyciprop is the whole design's degf)
by <- svyby(~I(sch.wide == "Yes"), ~stype, dstrat, svyciprop, method = "logit", vartype = "ci")
for (i in seq_len(nrow(by))) {
  cat(sprintf("dstrat_schwide_%s %.10f %.10f %.10f\n", by$stype[i], by[i, 2], by$ci_l[i], by$ci_u[i]))
}
# a small sample where the Wald interval leaves [0, 1]
small <- data.frame(y = c(1, 0, 0, 0, 0, 0, 0, 0), w = rep(1, 8))
show("small_default_df", svyciprop(~y, svydesign(id = ~1, weights = ~w, data = small), method = "logit"))
