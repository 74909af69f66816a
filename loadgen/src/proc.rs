//! CPU time and resident memory of processes, from /proc (Linux). The generator samples the
//! server processes it loads (several with `--pid a,b`) and itself, so a report says who was busy.

use std::fs;

/// User + system CPU time of `pid` in seconds (`self` for this process).
pub fn cpu_sec(pid: &str) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the ")" closing the command name: utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0) // USER_HZ is 100 on Linux
}

/// Resident set size of `pid` in KiB.
pub fn rss_kib(pid: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The summed CPU seconds of several processes (a multi-node deployment counts as one server).
pub fn cpu_sum(pids: &[String]) -> f64 {
    pids.iter().filter_map(|p| cpu_sec(p)).sum()
}

/// The summed RSS in KiB of several processes.
pub fn rss_sum(pids: &[String]) -> u64 {
    pids.iter().filter_map(|p| rss_kib(p)).sum()
}
