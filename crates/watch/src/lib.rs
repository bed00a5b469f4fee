//! List/watch of one Kubernetes resource, handing raw objects to a handler.
//!
//! Place in the data flow: API server → **watch** → decode (the engine). This crate speaks the
//! list/watch protocol over a `kube::Client` and never decodes an object beyond the few
//! metadata fields it needs to resume (its `resourceVersion`); objects reach the [`Handler`] as
//! [`Object`]s: slices of the response buffers, JSON or — when [`Options::protobuf`] asks for
//! it and the server answers so (built-in kinds) — the object's protobuf message, with their
//! [`Encoding`]. Protobuf list envelopes and length-prefixed watch frames are unwrapped here.
//!
//! # Brief overview
//!
//! * [`Target`]: what to watch (API path, resource, namespace, selectors).
//! * [`Options`]: page size, `resourceVersion=0` lists, object limit, watch-list, protobuf.
//! * [`run`]: drives one resource forever: an initial sync (a streaming watch-list when the
//!   server supports it, else a paginated list of 500-object pages), then a watch resumed from
//!   the last seen resourceVersion (bookmarks keep it fresh), a full relist after `410 Gone`,
//!   and exponential backoff with jitter after errors. A relist is bracketed by
//!   [`Event::RelistStarted`] and [`Event::RelistDone`], so a store can swap its contents
//!   atomically.
#![deny(missing_docs)]

mod backoff;
mod error;
mod protocol;
mod run;

pub use backoff::Backoff;
pub use error::{readable, Error};
pub use kubestate_objects::Encoding;
pub use run::{run, Event, Handler, Object, Options, RequestKind, Target};
