//! Cross-check of the float formatter against Go's own `strconv.FormatFloat(v, 'g', -1, 64)`
//! (what KSM prints through), over random and edge values. Skips when `go` is not installed.

use std::io::Write;
use std::process::{Command, Stdio};

use kubestate_metric::format_float;

const GO: &str = r#"package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		bits, err := strconv.ParseUint(in.Text(), 10, 64)
		if err != nil {
			panic(err)
		}
		v := math.Float64frombits(bits)
		s := strconv.FormatFloat(v, 'g', -1, 64)
		switch {
		case v == 0:
			s = "0"
		case v == 1:
			s = "1"
		case v == -1:
			s = "-1"
		case math.IsInf(v, 1):
			s = "+Inf"
		case math.IsInf(v, -1):
			s = "-Inf"
		}
		fmt.Fprintln(out, s)
	}
}
"#;

/// A small deterministic generator (no extra dependency): xorshift64*.
fn values(n: usize) -> Vec<u64> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(n + 64);
    for _ in 0..n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.push(x.wrapping_mul(0x2545_F491_4F6C_DD1D));
    }
    let edges = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        1e6,
        999_999.0,
        1e-4,
        1e-5,
        1.5e9,
        2f64.powi(53),
        5e-324,
        f64::MAX,
        f64::INFINITY,
    ];
    out.extend(edges.iter().map(|v| v.to_bits()));
    // Integers around the exponent switch and typical timestamps and byte sizes.
    out.extend((0..2000u64).map(|i| ((1_000_000 - 1000 + i) as f64).to_bits()));
    out.extend((0..2000u64).map(|i| ((1_795_238_620 + i * 37) as f64).to_bits()));
    out.extend((0..200u32).map(|i| (f64::from(i) * 1024.0 * 1024.0 * 1.5).to_bits()));
    out
}

#[test]
fn matches_go_strconv() {
    let Ok(go) = which_go() else {
        eprintln!("SKIP: go not installed");
        return;
    };
    let dir = std::env::temp_dir().join(format!("kubestate-go-float-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join("main.go");
    std::fs::write(&src, GO).expect("write go source");
    let bits: Vec<u64> = values(200_000)
        .into_iter()
        .filter(|b| !f64::from_bits(*b).is_nan())
        .collect();
    let mut child = Command::new(go)
        .arg("run")
        .arg(&src)
        .env("GOFLAGS", "-mod=mod")
        .env("GO111MODULE", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("go run");
    let mut stdin = child.stdin.take().expect("stdin");
    let input: String = bits.iter().map(|b| format!("{b}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("go output");
    writer.join().expect("writer thread").expect("write to go");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "go run failed");
    let theirs = String::from_utf8(out.stdout).expect("utf-8");
    let mut mismatches = Vec::new();
    for (b, want) in bits.iter().zip(theirs.lines()) {
        let got = format_float(f64::from_bits(*b));
        if got != want {
            mismatches.push(format!("bits {b}: ours {got}, Go {want}"));
        }
    }
    assert_eq!(
        theirs.lines().count(),
        bits.len(),
        "Go answered every value"
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
}

fn which_go() -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("go"))
        .find(|p| p.is_file())
        .ok_or(())
}
