//! Input limits: host-name validation and a per-socket token bucket.

use std::time::Instant;

pub const MAX_HOST_NAME_CHARS: usize = 64;
/// Longest socket id accepted in `to` / `me` (real ids are ~20 characters).
pub const MAX_ID_BYTES: usize = 128;

/// A valid host name, trimmed: 1 to 64 characters, none of them control characters.
pub fn host_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("host name is empty");
    }
    if name.chars().count() > MAX_HOST_NAME_CHARS {
        return Err("host name is longer than 64 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("host name contains control characters");
    }
    Ok(name.to_string())
}

/// Allows `rate` events per second with bursts up to `burst`.
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64) -> Self {
        TokenBucket { rate, burst, tokens: burst, last: Instant::now() }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn host_names() {
        assert_eq!(host_name("  room  ").unwrap(), "room");
        assert_eq!(host_name(&"é".repeat(64)).unwrap().chars().count(), 64);
        assert!(host_name("").is_err());
        assert!(host_name(" \t ").is_err());
        assert!(host_name(&"x".repeat(65)).is_err());
        assert!(host_name("a\nb").is_err());
        assert!(host_name("a\u{0}b").is_err());
    }

    #[test]
    fn bucket_allows_burst_then_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 3.0);
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
    }
}
