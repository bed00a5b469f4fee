//! Slim decoded Kubernetes objects: only the fields kubestate's metric families read.
