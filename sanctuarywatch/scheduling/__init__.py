"""When jobs run: cron.yaml, the daemon, the Dagster definitions."""
