//! Golden tests of the pod families.
