//! What the server tests share: a main or telemetry server on a free loopback port, built from
//! the few parts a test sets, and a self-signed web configuration for TLS.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kubestate_http::{
    serve_main, serve_telemetry, Authorizer, Histogram, SecuritySlot, Settings, Shared, WebSecurity,
};
use kubestate_store::Exposition;
use tokio::net::TcpListener;

/// A server to start, built from what a test sets (`TestServer::main().settings(…)`); the rest
/// of its [`Shared`] state is empty (no liveness proxy, build info or explorer pages).
pub struct TestServer {
    exposition: Arc<Exposition>,
    settings: Settings,
    security: WebSecurity,
    authorizer: Option<Authorizer>,
    telemetry: bool,
}

impl TestServer {
    /// The main server, serving an empty exposition with default settings.
    pub fn main() -> Self {
        TestServer {
            exposition: Arc::new(Exposition::new()),
            settings: Settings::default(),
            security: WebSecurity::default(),
            authorizer: None,
            telemetry: false,
        }
    }

    /// The telemetry server.
    pub fn telemetry() -> Self {
        TestServer {
            telemetry: true,
            ..TestServer::main()
        }
    }

    /// Serving `exposition` on `/metrics`.
    pub fn exposition(self, exposition: Arc<Exposition>) -> Self {
        TestServer { exposition, ..self }
    }

    /// With these limits and timeouts.
    pub fn settings(self, settings: Settings) -> Self {
        TestServer { settings, ..self }
    }

    /// With this TLS, basic auth and headers.
    pub fn security(self, security: WebSecurity) -> Self {
        TestServer { security, ..self }
    }

    /// With this `--auth-filter` check.
    pub fn authorizer(self, authorizer: Authorizer) -> Self {
        TestServer {
            authorizer: Some(authorizer),
            ..self
        }
    }

    /// Serves on a free loopback port until the test ends; the address.
    pub async fn start(self) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            exposition: self.exposition,
            telemetry: Arc::default(),
            liveness: None,
            build_info: Vec::new(),
            histogram: Histogram::default(),
            settings: self.settings,
            security: SecuritySlot::from_pointee(self.security),
            authorizer: self.authorizer,
            pages: None,
        });
        let never = std::future::pending::<()>();
        if self.telemetry {
            tokio::spawn(serve_telemetry(listener, shared, never));
        } else {
            tokio::spawn(serve_main(listener, shared, never));
        }
        addr
    }
}

/// Writes a self-signed certificate for `localhost`, its key and a web configuration serving
/// TLS with them into `dir`: the certificate (for a client to trust) and the configuration.
pub fn tls_web_config(dir: &Path) -> (rcgen::CertifiedKey, PathBuf) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    std::fs::write(dir.join("c.pem"), cert.cert.pem()).expect("write");
    std::fs::write(dir.join("k.pem"), cert.key_pair.serialize_pem()).expect("write");
    let cfg = dir.join("web.yml");
    std::fs::write(
        &cfg,
        "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n",
    )
    .expect("write");
    (cert, cfg)
}
