//! End-to-end conformance: every world of `../shared/conformance`, served by the simulator,
//! listed and watched over HTTP by the engine, scraped from the HTTP server in text and
//! OpenMetrics, must equal what KSM v2.20.0 printed for it (conformance/README.md "How to
//! compare": TYPE lines as an ordered set, samples as sorted multisets per family). Each world
//! runs twice: with the API server answering in protobuf (the default, as for KSM) and in
//! JSON (`--api-content-type=json`).

use std::time::Duration;

use kubestate::options::ExporterOptions;
use kubestate_sim::{Sim, SimConfig, WorldSource};
use kubestate_testkit::http::get;
use kubestate_testkit::{cases, diff_families, type_lines, Case};

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OM_ACCEPT: &str = "application/openmetrics-text;version=1.0.0";
const OM: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";

async fn run_case(case: &Case) -> Result<(), String> {
    // One expectation, both wire encodings of the API server.
    for content_type in ["protobuf", "json"] {
        run_case_with(case, content_type)
            .await
            .map_err(|e| format!("--api-content-type={content_type}: {e}"))?;
    }
    Ok(())
}

async fn run_case_with(case: &Case, content_type: &str) -> Result<(), String> {
    let sim = Sim::start(SimConfig {
        port: 0,
        world: WorldSource::File(case.objects_path()),
        ..SimConfig::default()
    })
    .await
    .map_err(|e| format!("sim: {e:#}"))?;
    let mut opts = ExporterOptions::parse_args(case.args.iter()).map_err(|e| e.to_string())?;
    opts.host = "127.0.0.1".into();
    opts.port = 0;
    opts.telemetry_host = "127.0.0.1".into();
    opts.telemetry_port = 0;
    opts.api_content_type = content_type.into();
    let url = sim.base_url().parse().map_err(|e| format!("{e}"))?;
    let client = kube::Client::try_from(kube::Config::new(url)).map_err(|e| e.to_string())?;
    let exporter = kubestate::exporter::start(&opts, client)
        .await
        .map_err(|e| format!("{e:#}"))?;
    tokio::time::timeout(Duration::from_secs(60), exporter.wait_synced())
        .await
        .map_err(|_| "initial sync did not complete within 60 s".to_string())?;
    let base = format!("http://{}/metrics", exporter.metrics_addr);
    let mut problems = Vec::new();

    let text = get(&base, &[("Accept", "text/plain")], Duration::from_secs(30)).await?;
    if text.header("content-type") != Some(TEXT) {
        problems.push(format!(
            "text Content-Type is {:?}",
            text.header("content-type")
        ));
    }
    let body = text.text();
    if let Some(d) = diff_families(&case.expected_prom, &body, |_| true) {
        problems.push(format!("text body:\n{d}"));
    } else if type_lines(&case.expected_prom) != type_lines(&body) {
        problems.push("text: TYPE lines in a different order".into());
    }

    if let Some(expected) = &case.expected_openmetrics {
        let om = get(&base, &[("Accept", OM_ACCEPT)], Duration::from_secs(30)).await?;
        if om.header("content-type") != Some(OM) {
            problems.push(format!(
                "OpenMetrics Content-Type is {:?}",
                om.header("content-type")
            ));
        }
        let body = om.text();
        if !body.ends_with("# EOF\n") {
            problems.push("OpenMetrics body does not end with # EOF".into());
        }
        if let Some(d) = diff_families(expected, &body, |_| true) {
            problems.push(format!("OpenMetrics body:\n{d}"));
        }
    }
    exporter.stop().await;
    let stats = sim.stats();
    let (want, other) = match content_type {
        "protobuf" => (stats.protobuf_responses, stats.json_responses),
        _ => (stats.json_responses, stats.protobuf_responses),
    };
    if want == 0 || other > 0 {
        problems.push(format!(
            "the sim answered {} protobuf and {} JSON requests",
            stats.protobuf_responses, stats.json_responses
        ));
    }
    sim.shutdown().await;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// One test per world (so `cargo test --test conformance -- <case>` runs one), generated from
/// the corpus at run time so that any world added to it is checked too.
fn main() -> std::process::ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = libtest_mimic::Arguments::from_args();
    let all = cases();
    if all.is_empty() {
        eprintln!("SKIP: the conformance corpus (../shared/conformance) is not present");
    }
    let runtime = std::sync::Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let trials = all
        .into_iter()
        .map(|case| {
            let rt = runtime.clone();
            libtest_mimic::Trial::test(case.name.clone(), move || {
                rt.block_on(run_case(&case))
                    .map_err(|e| format!("{} differs from KSM:\n{e}", case.name).into())
            })
        })
        .collect();
    // Worlds share the machine's two cores; running them one at a time keeps timings sane.
    let args = libtest_mimic::Arguments {
        test_threads: Some(args.test_threads.unwrap_or(1)),
        ..args
    };
    libtest_mimic::run(&args, trials).exit_code()
}
