"""Progress from the shop floor: stages, reports with photos, the offline outbox's server side."""
