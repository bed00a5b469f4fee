//! Metric family tables, one module per Kubernetes kind, and the filters that select them.
