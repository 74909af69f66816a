//! A lock-free latency histogram: log-spaced buckets (2 % apart) of microseconds, counted with
//! relaxed atomics so every connection task records into one shared histogram per rate step
//! without a lock and without keeping samples.

use std::sync::atomic::{AtomicU64, Ordering};

/// Buckets per factor e: 50 gives ~2 % resolution; 1,000 buckets reach e^20 µs (~485 s).
const PER_E: f64 = 50.0;
const BUCKETS: usize = 1000;

pub struct Histogram {
    buckets: Vec<AtomicU64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect() }
    }
}

impl Histogram {
    pub fn record(&self, micros: u64) {
        let i = (((micros as f64) + 1.0).ln() * PER_E) as usize;
        self.buckets[i.min(BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The `p`-th percentile in milliseconds (the upper edge of its bucket), None when empty.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                return Some((((i + 1) as f64) / PER_E).exp_m1() / 1000.0);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_the_bucket_resolution() {
        let h = Histogram::default();
        for us in 1..=10_000u64 {
            h.record(us);
        }
        let p50 = h.percentile_ms(50.0).unwrap();
        let p99 = h.percentile_ms(99.0).unwrap();
        assert!((p50 - 5.0).abs() / 5.0 < 0.03, "{p50}");
        assert!((p99 - 9.9).abs() / 9.9 < 0.03, "{p99}");
        assert_eq!(Histogram::default().percentile_ms(50.0), None);
    }
}
