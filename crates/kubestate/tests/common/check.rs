//! For the check's tests: reading what the file output wrote, and what an unsharded embedded
//! check emits for the simulator's objects (the oracle).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use kubestate_engine::Engine;
use kubestate_sim::SimHandle;
use kubestate_sinks::Config;
use kubestate_store::StructuredStoreFactory;

/// The series lines (name, labels, value; the timestamp cut off) of the newest file in `dir`.
pub fn newest_series(dir: &Path) -> Option<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "om"))
        .collect();
    files.sort();
    let text = std::fs::read_to_string(files.last()?).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_string())
            .collect(),
    )
}

/// What a check without rules emits, through the file output, for the objects `sim` holds now
/// fed to an engine with `config`; sorted.
pub fn oracle(sim: &SimHandle, config: &kubestate_engine::Config) -> Vec<String> {
    let factory = StructuredStoreFactory::new();
    let engine = Engine::new(config, &factory).expect("engine");
    engine.replace_all(sim.snapshot().objects.iter().map(|o| &o.json[..]));
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "sinks:\n  - {{type: file, directory: {}, keep: 1}}\n",
        dir.path().display()
    );
    let check_config = Config::from_yaml(&yaml, "oracle.yaml").expect("config");
    let mut outputs =
        kubestate_sinks::build(&check_config.sinks, &kubestate_check::Telemetry::new())
            .expect("file output");
    let mut check =
        kubestate_check::Check::new(&check_config, factory.symbols().clone()).expect("check");
    outputs.begin(1_700_000_000_000);
    let stats = check.run(&factory.snapshot(), SystemTime::now(), &mut outputs);
    for (_, r) in outputs.finish(&stats) {
        r.expect("oracle written");
    }
    let mut lines = newest_series(dir.path()).expect("oracle file");
    lines.sort();
    lines
}
