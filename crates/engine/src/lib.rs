//! The embeddable kubestate engine: watches, decodes, generates families and feeds sinks.
