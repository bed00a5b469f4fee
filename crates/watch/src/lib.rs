//! List/watch of one Kubernetes resource as a stream of raw object events.
