//! What the benchmarks share: timing a child process (wall time and peak memory), medians,
//! and running a program for its output.

#![allow(dead_code, reason = "each benchmark uses a part of this")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One timed run: wall time and peak resident memory of the child.
pub struct Sample {
    pub wall: Duration,
    pub max_rss_kib: i64,
}

#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped with wait4, which also reports its peak memory"
)]
pub fn run(program: &Path, args: &[String], stdout: Stdio) -> Sample {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting on our own child's pid with valid out-pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{} failed",
        program.display()
    );
    Sample {
        wall,
        max_rss_kib: usage.ru_maxrss,
    }
}

pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

pub fn output(program: &Path, args: &[String]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .output()
        .expect("run for output");
    assert!(
        out.status.success(),
        "{}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
