"""The quality gate before export: `validation` runs the Great Expectations suites in
expectations/ on the built warehouse; `data_docs_offline` makes their Data Docs work without a
network (the CSS and scripts in gx_assets/)."""
