//! The benchmark charts in docs/bench/ as people see them: each SVG is opened in headless
//! Chromium, both as an image (as the Markdown pages embed it) and inline, where a script
//! checks that it decodes, that its text is laid out, that no label is cut off at the edge
//! and that no two labels of the scaling charts cover each other or sit across an axis. A screenshot of each lands
//! in `$CARGO_TARGET_TMPDIR/chart-shots/` for a look.
//!
//! Needs Chromium (`apt-get install chromium`); without it the test prints `SKIP:` (and fails
//! under `KUBESTATE_REQUIRE_TOOLS=1`).

use std::path::{Path, PathBuf};
use std::process::Command;

use kubestate_testkit::tools;

fn chromium() -> Option<PathBuf> {
    let c = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    });
    if c.is_none() {
        tools::skip("chromium", "apt-get install chromium");
    }
    c
}

/// Base64 without padding surprises (standard alphabet, `=` padded).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// One page holding every chart, as an image and inline; a script writes one verdict line
/// per chart into `<pre id="verdict">`. `overlap` charts are also checked for labels that
/// cover each other.
fn page(charts: &[(String, String, bool)]) -> String {
    let mut body = String::new();
    for (name, svg, overlap) in charts {
        body.push_str(&format!(
            "<section data-name=\"{name}\" data-overlap=\"{overlap}\"><img src=\"data:image/svg+xml;base64,{}\"><div class=\"inline\">{svg}</div></section>\n",
            base64(svg.as_bytes())
        ));
    }
    format!(
        r#"<!doctype html><html><body style="margin:0">
{body}
<pre id="verdict">pending</pre>
<script>
window.addEventListener('load', () => {{
  const lines = [];
  for (const sec of document.querySelectorAll('section')) {{
    const problems = [];
    const img = sec.querySelector('img');
    if (!(img.complete && img.naturalWidth > 0 && img.naturalHeight > 0)) problems.push('the SVG does not load as an image');
    const root = sec.querySelector('.inline svg');
    if (!root) {{ lines.push(sec.dataset.name + ': PROBLEM no inline svg'); continue; }}
    const r = root.getBoundingClientRect();
    const texts = [...root.querySelectorAll('text')].filter(t => t.textContent.trim() !== '');
    if (texts.length < 10) problems.push('only ' + texts.length + ' labels');
    const boxes = [];
    for (const t of texts) {{
      const c = t.getBoundingClientRect();
      const b = {{x: c.left - r.left, y: c.top - r.top, width: c.width, height: c.height}};
      const label = t.textContent.trim();
      if (b.width <= 0 || b.height <= 0) {{ problems.push('label "' + label + '" has no size'); continue; }}
      if (b.x < -1 || b.y < -1 || b.x + b.width > r.width + 1 || b.y + b.height > r.height + 1)
        problems.push('label "' + label + '" is cut off at the edge (' + [b.x, b.y, b.width, b.height].map(Math.round) + ' in ' + r.width + 'x' + r.height + ')');
      boxes.push([label, b]);
    }}
    if (sec.dataset.overlap === 'true') {{
      // Axis lines: opaque black polylines longer than a tick.
      const axes = [...root.querySelectorAll('polyline')]
        .filter(p => p.getAttribute('stroke') === '#000000' && p.getAttribute('opacity') !== '0.1')
        .map(p => p.getBoundingClientRect())
        .map(c => ({{x: c.left - r.left, y: c.top - r.top, width: c.width, height: c.height}}))
        .filter(a => Math.max(a.width, a.height) > 100);
      for (const [label, b] of boxes) for (const a of axes) {{
        const across = a.height < 3
          ? a.y > b.y + 2 && a.y < b.y + b.height - 2 && a.x < b.x + b.width && a.x + a.width > b.x
          : a.width < 3 && a.x > b.x + 2 && a.x < b.x + b.width - 2 && a.y < b.y + b.height && a.y + a.height > b.y;
        if (across) problems.push('label "' + label + '" crosses an axis');
      }}
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {{
        const [ta, a] = boxes[i], [tb, b] = boxes[j];
        const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
        const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
        if (w > 2 && h > 2 && w * h > 0.2 * Math.min(a.width * a.height, b.width * b.height))
          problems.push('labels "' + ta + '" and "' + tb + '" cover each other');
      }}
    }}
    lines.push(sec.dataset.name + ': ' + (problems.length ? 'PROBLEMS ' + problems.join('; ') : 'OK ' + texts.length + ' labels, ' + r.width + 'x' + r.height));
  }}
  document.getElementById('verdict').textContent = lines.join('\n');
}});
</script></body></html>"#
    )
}

fn run(chromium: &Path, args: &[String]) -> String {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .args(args)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn docs_bench() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/bench")
}

#[test]
fn benchmark_charts_render_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        return;
    };
    let mut svgs: Vec<PathBuf> = std::fs::read_dir(docs_bench())
        .expect("docs/bench")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .collect();
    svgs.sort();
    for must in ["scaling.svg", "scaling-per-object.svg"] {
        assert!(
            svgs.iter().any(|p| p.ends_with(must)),
            "docs/bench/{must} is missing (kubestate-bench scaling draws it)"
        );
    }
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chart-shots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let charts: Vec<(String, String, bool)> = svgs
        .iter()
        .map(|p| {
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or("chart");
            let text = std::fs::read_to_string(p).expect("read svg");
            (name.to_string(), text, name.starts_with("scaling"))
        })
        .collect();
    // A canary the checks must catch: two labels on top of each other, one off the edge, one
    // across an axis.
    let canary = r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><text x="10" y="50" font-size="14">first label</text><text x="14" y="52" font-size="14">second label</text><text x="170" y="50" font-size="14">cut off</text><polyline fill="none" opacity="1" stroke="#000000" stroke-width="1" points="10,80 190,80 "/><text x="60" y="86" font-size="14">on the axis</text></svg>"##;
    let mut page_charts = charts.clone();
    page_charts.push(("scaling-canary".into(), canary.into(), true));
    let html = shots.join("charts.html");
    std::fs::write(&html, page(&page_charts)).expect("write page");
    let dom = run(
        &chromium,
        &["--dump-dom".into(), format!("file://{}", html.display())],
    );
    let verdict = dom
        .split("<pre id=\"verdict\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or("no verdict in the page");
    println!("{verdict}");
    let canary = verdict
        .lines()
        .find(|l| l.starts_with("scaling-canary: "))
        .unwrap_or("");
    assert!(
        canary.contains("cover each other")
            && canary.contains("cut off at the edge")
            && canary.contains("crosses an axis"),
        "the checks missed the canary's faults: {canary:?}"
    );
    let mut failures: Vec<String> = Vec::new();
    for (name, ..) in &charts {
        match verdict
            .lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
        {
            Some(l) if l.contains(": OK ") => {}
            Some(l) => failures.push(l.to_string()),
            None => failures.push(format!("{name}: no verdict")),
        }
    }
    // What a person sees: each chart alone, at its own size.
    for (name, text, _) in &charts {
        let (w, h) = size(text).unwrap_or((1200, 1200));
        let png = shots.join(format!("{name}.png"));
        let svg = docs_bench().join(format!("{name}.svg"));
        run(
            &chromium,
            &[
                format!("--window-size={w},{h}"),
                format!("--screenshot={}", png.display()),
                format!("file://{}", svg.display()),
            ],
        );
        let shot = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        if shot < 10_000 {
            failures.push(format!("{name}: screenshot of {shot} bytes"));
        }
    }
    assert!(
        failures.is_empty(),
        "charts that do not render cleanly (pages and screenshots in {}):\n{}",
        shots.display(),
        failures.join("\n")
    );
}

/// The `width` and `height` attributes of the root element.
fn size(svg: &str) -> Option<(u32, u32)> {
    let head = &svg[..svg.find('>')?];
    let attr = |n: &str| -> Option<u32> {
        let i = head.find(&format!(" {n}=\""))? + n.len() + 3;
        head[i..].split('"').next()?.parse().ok()
    };
    Some((attr("width")?, attr("height")?))
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"<svg>"), "PHN2Zz4=");
}
