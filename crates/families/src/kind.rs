//! The table types every kind module is written in.

use std::marker::PhantomData;
use std::sync::Arc;

use kubestate_metric::{FamilyDesc, MetricType, ObjectMetrics, Stability};
use kubestate_objects::Meta;
use serde::de::DeserializeOwned;

use crate::filter::{KeySet, Selection};
use crate::{DecodeError, Encoding, Generator, ObjectKey};

/// Where a kind lives in the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Api {
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version (`v1`, `v2`).
    pub version: &'static str,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

impl Api {
    /// Core `v1`, namespaced.
    pub const CORE_NS: Api = Api {
        group: "",
        version: "v1",
        namespaced: true,
    };
    /// Core `v1`, cluster-scoped.
    pub const CORE_CLUSTER: Api = Api {
        group: "",
        version: "v1",
        namespaced: false,
    };
    /// A namespaced kind of `group/version`.
    pub const fn ns(group: &'static str, version: &'static str) -> Api {
        Api {
            group,
            version,
            namespaced: true,
        }
    }
    /// A cluster-scoped kind of `group/version`.
    pub const fn cluster(group: &'static str, version: &'static str) -> Api {
        Api {
            group,
            version,
            namespaced: false,
        }
    }
}

/// One metric family of kind `O`: its description and the function that emits its samples.
pub struct Family<O: 'static> {
    /// Metric name.
    pub name: &'static str,
    /// HELP text, in our own words.
    pub help: &'static str,
    /// Metric type.
    pub ty: MetricType,
    /// Stability level.
    pub stability: Stability,
    /// Version the family was deprecated in.
    pub deprecated_since: Option<&'static str>,
    /// Only generated when named by `--metric-opt-in-list`.
    pub opt_in: bool,
    /// Emits the samples of one object (identity labels are added by the caller).
    pub emit: fn(&O, &mut Out<'_>),
}

impl<O: 'static> Family<O> {
    /// A gauge family.
    pub const fn gauge(
        name: &'static str,
        stability: Stability,
        help: &'static str,
        emit: fn(&O, &mut Out<'_>),
    ) -> Family<O> {
        Family {
            name,
            help,
            ty: MetricType::Gauge,
            stability,
            deprecated_since: None,
            opt_in: false,
            emit,
        }
    }

    /// The same family as a counter.
    pub const fn counter(mut self) -> Family<O> {
        self.ty = MetricType::Counter;
        self
    }

    /// The same family, deprecated since `version`.
    pub const fn deprecated(mut self, version: &'static str) -> Family<O> {
        self.deprecated_since = Some(version);
        self
    }

    /// The same family, generated only when opted in.
    pub const fn opt_in(mut self) -> Family<O> {
        self.opt_in = true;
        self
    }

    /// The descriptor of this family.
    pub fn desc(&self) -> FamilyDesc {
        FamilyDesc {
            name: self.name.to_string(),
            help: self.help.to_string(),
            ty: self.ty,
            stability: self.stability,
            deprecated_since: self.deprecated_since.map(str::to_string),
        }
    }
}

/// A Kubernetes kind kubestate exposes: its slim struct, where it lives, its identity labels
/// and its family table.
pub trait Kind: DeserializeOwned + Send + 'static {
    /// The `--resources` name (plural, lower case), e.g. `pods`.
    const RESOURCE: &'static str;
    /// The Kind, e.g. `Pod`.
    const KIND: &'static str;
    /// API group, version and scope.
    const API: Api;
    /// Whether KSM enables the resource when `--resources` is not given.
    const DEFAULT_ENABLED: bool = true;
    /// The families, in the order KSM writes them.
    const FAMILIES: &'static [Family<Self>];

    /// The object's metadata.
    fn meta(&self) -> &Meta;

    /// Adds the labels every sample of the object starts with.
    fn identity(&self, out: &mut ObjectMetrics);

    /// Decodes the kind's protobuf message `msg` (the generic, schema-driven decoder unless a
    /// kind has a hand-written one that gives the same struct).
    ///
    /// # Errors
    /// The bytes are not a valid message of that type.
    fn from_protobuf(
        bytes: &[u8],
        msg: kubestate_protoschema::MessageId,
    ) -> Result<Self, kubestate_objects::proto::Error> {
        kubestate_objects::proto::from_slice(bytes, msg)
    }
}

/// Where an emit function writes its samples, with the resource's label/annotation
/// allowlists at hand.
pub struct Out<'a> {
    m: &'a mut ObjectMetrics,
    sel: &'a Selection,
}

impl<'a> Out<'a> {
    /// Wraps an arena for one family's emission.
    pub fn new(m: &'a mut ObjectMetrics, sel: &'a Selection) -> Out<'a> {
        Out { m, sel }
    }

    /// Adds a sample with these labels (after the identity labels).
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        self.m.sample(labels, value);
    }

    /// Starts a sample whose labels are added one by one.
    pub fn begin(&mut self) -> &mut Self {
        self.m.begin_sample();
        self
    }

    /// Adds a label to the sample begun with [`Out::begin`].
    pub fn label(&mut self, name: &str, value: &str) -> &mut Self {
        self.m.label(name, value);
        self
    }

    /// Finishes the sample begun with [`Out::begin`].
    pub fn finish(&mut self, value: f64) {
        self.m.finish_sample(value);
    }

    /// Keys of `metadata.labels` allowlisted for this resource, if the resource has an entry.
    pub fn allowed_labels(&self) -> Option<&KeySet> {
        self.sel.labels.as_ref()
    }

    /// Keys of `metadata.annotations` allowlisted for this resource, if it has an entry.
    pub fn allowed_annotations(&self) -> Option<&KeySet> {
        self.sel.annotations.as_ref()
    }
}

/// Adapts a [`Kind`] to the object-safe [`crate::Resource`] registry entry.
pub struct Registered<K>(PhantomData<fn() -> K>);

impl<K> Registered<K> {
    /// The registry entry of `K`.
    pub const NEW: Registered<K> = Registered(PhantomData);
}

impl<K: Kind> crate::Resource for Registered<K> {
    fn name(&self) -> &'static str {
        K::RESOURCE
    }
    fn kind(&self) -> &'static str {
        K::KIND
    }
    fn api(&self) -> Api {
        K::API
    }
    fn default_enabled(&self) -> bool {
        K::DEFAULT_ENABLED
    }
    fn families(&self) -> Vec<crate::FamilyInfo> {
        K::FAMILIES
            .iter()
            .map(|f| crate::FamilyInfo {
                desc: f.desc(),
                opt_in: f.opt_in,
            })
            .collect()
    }
    fn generator(&self, sel: Selection) -> Arc<dyn Generator> {
        let enabled: Vec<usize> = K::FAMILIES
            .iter()
            .enumerate()
            .filter(|(_, f)| sel.keeps(f.name, f.opt_in))
            .map(|(i, _)| i)
            .collect();
        let descs = enabled.iter().map(|&i| K::FAMILIES[i].desc()).collect();
        let api_version = if K::API.group.is_empty() {
            K::API.version.to_string()
        } else {
            format!("{}/{}", K::API.group, K::API.version)
        };
        Arc::new(TableGenerator::<K> {
            enabled,
            descs,
            sel,
            message: kubestate_objects::proto::message_of(&api_version, K::KIND),
            _k: PhantomData,
        })
    }
}

struct TableGenerator<K> {
    enabled: Vec<usize>,
    descs: Vec<FamilyDesc>,
    sel: Selection,
    /// The kind's protobuf message.
    message: Option<kubestate_protoschema::MessageId>,
    _k: PhantomData<fn() -> K>,
}

impl<K: Kind> TableGenerator<K> {
    fn emit(&self, obj: &K, out: &mut ObjectMetrics) -> ObjectKey {
        out.clear();
        obj.identity(out);
        for &i in &self.enabled {
            out.begin_family();
            (K::FAMILIES[i].emit)(obj, &mut Out::new(out, &self.sel));
        }
        ObjectKey::from_meta(obj.meta())
    }

    fn message(&self) -> Result<kubestate_protoschema::MessageId, DecodeError> {
        self.message.ok_or_else(|| DecodeError::NoProtobuf {
            resource: K::RESOURCE.to_string(),
        })
    }
}

impl<K: Kind> Generator for TableGenerator<K> {
    fn resource(&self) -> &str {
        K::RESOURCE
    }

    fn families(&self) -> &[FamilyDesc] {
        &self.descs
    }

    fn peek(&self, json: &[u8]) -> Result<ObjectKey, DecodeError> {
        crate::peek_key(K::RESOURCE, json)
    }

    fn generate(&self, json: &[u8], out: &mut ObjectMetrics) -> Result<ObjectKey, DecodeError> {
        let obj: K = serde_json::from_slice(json).map_err(|source| DecodeError::Json {
            resource: K::RESOURCE,
            source,
        })?;
        Ok(self.emit(&obj, out))
    }

    fn peek_encoded(&self, bytes: &[u8], encoding: Encoding) -> Result<ObjectKey, DecodeError> {
        match encoding {
            Encoding::Json => self.peek(bytes),
            Encoding::Protobuf => crate::peek_key_protobuf(K::RESOURCE, bytes, self.message()?),
        }
    }

    fn generate_encoded(
        &self,
        bytes: &[u8],
        encoding: Encoding,
        out: &mut ObjectMetrics,
    ) -> Result<ObjectKey, DecodeError> {
        match encoding {
            Encoding::Json => self.generate(bytes, out),
            Encoding::Protobuf => {
                let obj = K::from_protobuf(bytes, self.message()?).map_err(|source| {
                    DecodeError::Protobuf {
                        resource: K::RESOURCE,
                        source,
                    }
                })?;
                Ok(self.emit(&obj, out))
            }
        }
    }
}
