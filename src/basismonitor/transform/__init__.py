"""From the raw layer to the marts: `preflight` (inputs and catalogue checked before dbt runs),
`dbt` (one `dbt build`), `build_state` (what changed since the last good build: --changed-only and
the dbt project's fingerprint) and `dbt_models` (helpers the dbt Python models import)."""
