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

/// The machine's CPU time so far by kind, in ticks, from /proc/stat's first line: user (with
/// nice), system, idle (with iowait), softirq, steal. Softirq is nobody's process time: on
/// loopback it is the TCP receive path, a large share of a relay's cost that neither the server's
/// nor the generator's CPU figure includes; steal is time the hypervisor gave to other guests.
pub fn machine_ticks() -> Option<[u64; 5]> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let f: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).map_while(|x| x.parse().ok()).collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    Some([at(0) + at(1), at(2), at(3) + at(4), at(6), at(7)])
}

/// Each kind's share of the machine between two [`machine_ticks`] readings, in % of all CPUs.
pub fn machine_shares(before: [u64; 5], after: [u64; 5]) -> [f64; 5] {
    let d: Vec<f64> = before.iter().zip(after).map(|(b, a)| a.saturating_sub(*b) as f64).collect();
    let total = d.iter().sum::<f64>().max(1.0); // whole ticks: 0 only when nothing moved
    [0, 1, 2, 3, 4].map(|i| d[i] / total * 100.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn machine_shares_add_up_to_the_whole_machine() {
        let s = super::machine_shares([10, 20, 30, 0, 0], [40, 40, 70, 10, 0]);
        assert_eq!(s, [30.0, 20.0, 40.0, 10.0, 0.0]);
        assert_eq!(super::machine_shares([1; 5], [1; 5]), [0.0; 5]);
        assert!(super::machine_ticks().is_some());
    }
}
