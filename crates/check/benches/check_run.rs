//! One check run over about a million series with the Datadog preset's default joins:
//! embedded mode (structured store snapshot) vs scrape mode (render the exposition text,
//! parse it, run) vs the exporter's plain scrape (render the text only).
//!
//! `cargo bench -p kubestate-check --bench check_run` (set `KUBESTATE_BENCH_PODS` to change
//! the cluster size, default 18 500 pods ≈ 1 M series, or `KUBESTATE_BENCH_PRESET` to one of
//! the simulator's presets, e.g. `xl` for 150 000 pods). Prints figures and ratios.
//! `KUBESTATE_BENCH_SCRAPE=0` times the embedded run only and builds no text store (for
//! profiling it under callgrind, e.g. `--toggle-collect='*Check::run*'`, and for `xl`, whose
//! text exposition alone would take over a gigabyte).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kubestate_check::{Check, CheckConfig, OutSeries, ScrapeSource};
use kubestate_engine::{Config, Engine};
use kubestate_metric::parse::Syntax;
use kubestate_metric::Format;
use kubestate_sim::{Sim, SimConfig, SynthSpec, WorldSource};
use kubestate_store::structured::Symbols;
use kubestate_store::{
    Exposition, ResourceFilter, StructuredStoreFactory, TeeFactory, TextStoreFactory,
};

/// Counts output series and label pairs, so the optimiser cannot skip emission.
#[derive(Default)]
struct Count {
    series: u64,
    labels: u64,
}

impl kubestate_check::Emit for Count {
    fn series(&mut self, s: &OutSeries<'_>) {
        self.series += 1;
        self.labels += s.labels.len() as u64;
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// CPU time this thread has run so far (`/proc/thread-self/schedstat`), so that a run's cost
/// can be told apart from time spent waiting for a core on a loaded machine.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let spec = match std::env::var("KUBESTATE_BENCH_PRESET") {
        Ok(name) => SynthSpec::preset(&name).ok_or_else(|| {
            anyhow::anyhow!(
                "KUBESTATE_BENCH_PRESET={name}: not a preset (one of {:?})",
                SynthSpec::PRESETS
            )
        })?,
        Err(_) => SynthSpec::for_pods(
            std::env::var("KUBESTATE_BENCH_PODS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(18_500),
        ),
    };
    let pods = spec.pods;
    let runs: usize = std::env::var("KUBESTATE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let scrape_mode = std::env::var("KUBESTATE_BENCH_SCRAPE").map_or(true, |v| v != "0");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let t = Instant::now();
    let world = rt.block_on(async {
        let sim = Sim::start(SimConfig {
            world: WorldSource::Synthesize(spec),
            ..SimConfig::default()
        })
        .await?;
        let snap = sim.snapshot();
        sim.shutdown().await;
        anyhow::Ok(snap)
    })?;
    eprintln!(
        "synthesized {} objects for {pods} pods in {:.1} s",
        world.objects.len(),
        t.elapsed().as_secs_f64()
    );

    let exposition = Arc::new(Exposition::new());
    let structured = StructuredStoreFactory::new();
    // The check asks for every label, as Datadog's does, so that `_labels` joins work.
    let labels = kubestate_families::Allowlist::parse("--metric-labels-allowlist", "*=[*]")?;
    let config = Config {
        labels_allowlist: labels,
        ..Config::default()
    };
    let t = Instant::now();
    let _engine = if scrape_mode {
        let tee = TeeFactory(
            Arc::new(TextStoreFactory::new(exposition.clone())),
            Arc::new(structured.clone()),
        );
        let engine = Engine::new(&config, &tee)?;
        engine.replace_all(world.objects.iter().map(|o| &o.json[..]));
        engine
    } else {
        let engine = Engine::new(&config, &structured)?;
        engine.replace_all(world.objects.iter().map(|o| &o.json[..]));
        engine
    };
    drop(world);
    eprintln!(
        "engine filled the stores in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let config: CheckConfig<serde_yaml::Value> =
        CheckConfig::from_yaml("preset: datadog\n", "bench")?;
    let mut embedded = Check::new(&config, structured.symbols().clone())?;
    let scrape_symbols = Arc::new(Symbols::new());
    let mut scraped = Check::new(&config, scrape_symbols.clone())?;
    let source = ScrapeSource::new(scrape_symbols);

    let mut emb_cpu = Vec::new();
    let (mut emb, mut emb_index, mut render, mut parse, mut scrape_run) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut series_in, mut series_out, mut labels_out, mut bytes) = (0, 0, 0, 0);
    let mut index_read = 0;
    for _ in 0..runs {
        let cpu = thread_cpu();
        let t = Instant::now();
        let snap = structured.snapshot();
        let mut c = Count::default();
        let stats = embedded.run(&snap, SystemTime::now(), &mut c);
        emb.push(t.elapsed());
        if let (Some(a), Some(b)) = (cpu, thread_cpu()) {
            emb_cpu.push(b.saturating_sub(a));
        }
        emb_index.push(stats.index_duration);
        index_read = stats.index_objects_read;
        (series_in, series_out, labels_out) = (stats.series_in, c.series, c.labels);
        if !scrape_mode {
            continue;
        }

        let t = Instant::now();
        let mut body = Vec::with_capacity(bytes + 1024);
        exposition.write_all(Format::Text, &ResourceFilter::default(), &mut body);
        render.push(t.elapsed());
        bytes = body.len();
        let text = String::from_utf8(body)?;
        let t = Instant::now();
        let snap = source.snapshot(&text, Syntax::Text)?;
        parse.push(t.elapsed());
        let t = Instant::now();
        let mut c2 = Count::default();
        scraped.run(&snap, SystemTime::now(), &mut c2);
        scrape_run.push(t.elapsed());
        assert_eq!(c2.series, c.series, "scrape and embedded modes disagree");
    }
    let median_or_zero = |v: Vec<Duration>| {
        if v.is_empty() {
            Duration::ZERO
        } else {
            median(v)
        }
    };
    let first_cpu = emb_cpu.first().copied().unwrap_or_default();
    let ec = median_or_zero(emb_cpu);
    let (e, ei, r, p, s) = (
        median(emb),
        median(emb_index),
        median_or_zero(render),
        median_or_zero(parse),
        median_or_zero(scrape_run),
    );
    let scrape_total = r + p + s;
    println!("check run over {series_in} series ({pods} pods, {:.0} MB of text), median of {runs} runs, one core:", bytes as f64 / 1e6);
    println!("  embedded run (snapshot + joins + rules + aggregations): {:8.1} ms  (join index {:.1} ms)", ms(e), ms(ei));
    println!(
        "  embedded run, CPU time of the thread:                   {:8.1} ms  ({:.0} ns per input series)",
        ms(ec),
        ec.as_secs_f64() * 1e9 / series_in.max(1) as f64
    );
    println!(
        "  first run alone (join index read from every object), CPU time: {:8.1} ms  ({:.0} ns per input series)",
        ms(first_cpu),
        first_cpu.as_secs_f64() * 1e9 / series_in.max(1) as f64
    );
    if scrape_mode {
        println!("  scrape mode (render text + parse + run):                {:8.1} ms  (render {:.1}, parse {:.1}, run {:.1})", ms(scrape_total), ms(r), ms(p), ms(s));
        println!(
            "  exporter plain scrape (render text only):               {:8.1} ms",
            ms(r)
        );
    }
    println!(
        "  join index kept between runs: {:.1} MB of heap; objects re-read in the last run: {index_read}",
        embedded.index_heap_bytes() as f64 / 1e6
    );
    println!(
        "  output: {series_out} series, {:.1} labels per series",
        labels_out as f64 / series_out.max(1) as f64
    );
    if scrape_mode {
        println!("  ratios: scrape mode / embedded = {:.2}x, plain scrape / embedded = {:.2}x, embedded = {:.0} ns per input series",
            scrape_total.as_secs_f64() / e.as_secs_f64(),
            r.as_secs_f64() / e.as_secs_f64(),
            e.as_secs_f64() * 1e9 / series_in.max(1) as f64);
    }
    // Under `valgrind --tool=callgrind --toggle-collect='*Check::run*'`, the instructions
    // counted divided by this number are the instructions per input series.
    println!(
        "  input series over all {runs} runs: {}",
        series_in * runs as u64
    );
    Ok(())
}
