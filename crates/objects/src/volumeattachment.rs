//! VolumeAttachment (storage.k8s.io/v1).

use serde::Deserialize;

use crate::{Meta, StrMap};

/// A VolumeAttachment as its families see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VolumeAttachment {
    /// Object metadata.
    pub metadata: Meta,
    /// `spec`
    pub spec: AttachmentSpec,
    /// `status`
    pub status: AttachmentStatus,
}

/// `spec` of a VolumeAttachment.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AttachmentSpec {
    /// `attacher`
    pub attacher: Box<str>,
    /// `nodeName`
    pub node_name: Box<str>,
    /// `source`
    pub source: AttachmentSource,
}

/// `spec.source` of a VolumeAttachment.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AttachmentSource {
    /// `persistentVolumeName`; `None` for inline volumes.
    pub persistent_volume_name: Option<Box<str>>,
}

/// `status` of a VolumeAttachment.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AttachmentStatus {
    /// `attached`
    pub attached: bool,
    /// `attachmentMetadata`, sorted by key.
    pub attachment_metadata: StrMap,
}
