"""Running the stages in order: `pipeline` (the stage functions, called by the CLI and by Airflow),
`pipeline_cli` (their command-line wiring), `airflow_dags` / `airflow_dbt` / `airflow_support` (the
same stages as an Airflow 3 DAG, dbt through astronomer-cosmos) and `locks` (one writer of the
warehouse at a time)."""
