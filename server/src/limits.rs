//! The per-socket rate limit (a token bucket). Host-name rules and id limits are the protocol's
//! (`p2p_protocol`), shared with the clients.

use std::time::Instant;

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
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Charges `tokens` more for a request that turned out expensive (a large reply). The bucket
    /// may go into debt: the next requests wait until it is paid off.
    pub fn charge(&mut self, tokens: f64) {
        self.tokens -= tokens;
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_burst_then_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 3.0);
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
        b.charge(2.0);
        assert!(!b.take(t0 + Duration::from_millis(300)), "in debt: 2 tokens owed, 2 earned");
        assert!(b.take(t0 + Duration::from_millis(400)));
    }
}
