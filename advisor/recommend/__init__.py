"""From a profile report, a workload and the catalog to a decision: keep, upgrade or move to the cloud."""
