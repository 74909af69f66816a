//! The relay phase: every client of a group sends `candidate` messages to the other members, in
//! turn, at its share of the aggregate rate the controller sets for the current step; every client
//! records the latency of what it receives (the send time travels in the payload, and both ends
//! share this process's clock) into the step's histogram.

use crate::hist::Histogram;
use crate::sio::{classify, Client, Incoming};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Counters of one rate step.
#[derive(Default)]
pub struct Step {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub latency: Histogram,
}

/// What the controller and the client tasks share.
pub struct Shared {
    pub base: Instant,
    pub senders: u64,
    pub step: AtomicUsize,
    /// Aggregate messages/s offered in the current step (0 between steps).
    pub rate: AtomicU64,
    /// When the current step started, µs since `base`.
    pub step_start_us: AtomicU64,
    pub stop: AtomicBool,
    pub steps: Vec<Step>,
    pub problems: Mutex<BTreeMap<String, u64>>,
}

impl Shared {
    pub fn new(senders: u64, max_steps: usize) -> Shared {
        Shared {
            base: Instant::now(),
            senders,
            step: AtomicUsize::new(0),
            rate: AtomicU64::new(0),
            step_start_us: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            steps: (0..max_steps).map(|_| Step::default()).collect(),
            problems: Default::default(),
        }
    }

    pub fn now_us(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }

    pub fn problem(&self, what: String) {
        *self.problems.lock().unwrap().entry(what).or_default() += 1;
    }

    /// Starts step `i` at `rate` messages/s.
    pub fn start_step(&self, i: usize, rate: u64) {
        self.step_start_us.store(self.now_us(), Ordering::SeqCst);
        self.rate.store(rate, Ordering::SeqCst);
        self.step.store(i, Ordering::SeqCst);
    }
}

/// The digits after `"key":` in a relayed message, e.g. `"t":123`.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
    text[at..at + digits].parse().ok()
}

/// `42["message",{"type":"candidate","to":TO,"s":STEP,"t":SENT_US,"candidate":FILLER}]`, built
/// piece by piece: `format!` was the generator's largest cost of its own after the syscalls.
fn candidate(to: &str, step: usize, sent_us: u64, filler: &str) -> String {
    fn push_number(out: &mut String, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.push_str(std::str::from_utf8(&digits[i..]).expect("ASCII digits"));
    }
    let mut out = String::with_capacity(to.len() + filler.len() + 80);
    out.push_str(r#"42["message",{"type":"candidate","to":""#);
    out.push_str(to);
    out.push_str(r#"","s":"#);
    push_number(&mut out, step as u64);
    out.push_str(r#","t":"#);
    push_number(&mut out, sent_us);
    out.push_str(r#","candidate":""#);
    out.push_str(filler);
    out.push_str(r#""}]"#);
    out
}

/// Runs one client until the controller stops: sends its share, records what arrives.
pub async fn run(mut client: Client, peers: Vec<String>, shared: Arc<Shared>, filler: Arc<str>) {
    let mut my_step = usize::MAX;
    let mut my_sent = 0u64;
    let mut next_peer = 0usize;
    let mut wake = tokio::time::Instant::now();
    loop {
        tokio::select! {
            frame = client.ws.next() => match frame {
                Some(Ok(Message::Text(t))) => match classify(t.as_str()) {
                    Incoming::Event(body) if body.starts_with("[\"message\"") => {
                        if let (Some(s), Some(sent)) = (number_after(body, "\"s\":"), number_after(body, "\"t\":")) {
                            if let Some(step) = shared.steps.get(s as usize) {
                                step.latency.record(shared.now_us().saturating_sub(sent));
                                step.received.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    Incoming::Event(body) if body.starts_with("[\"error\"") => shared.problem(format!("error event: {body:.100}")),
                    Incoming::Other if t.as_str() == "2" && client.ws.send(Message::text("3")).await.is_err() => {
                        return shared.problem("pong failed".into());
                    }
                    _ => {}
                },
                Some(Ok(_)) => {}
                Some(Err(e)) => return if !shared.stop.load(Ordering::Relaxed) { shared.problem(format!("receive: {e}")) },
                None => return if !shared.stop.load(Ordering::Relaxed) { shared.problem("closed by the server".into()) },
            },
            _ = tokio::time::sleep_until(wake) => {
                if shared.stop.load(Ordering::Relaxed) {
                    return;
                }
                let step = shared.step.load(Ordering::SeqCst);
                if step != my_step {
                    (my_step, my_sent) = (step, 0);
                }
                let per_client = shared.rate.load(Ordering::SeqCst) as f64 / shared.senders as f64;
                let elapsed = shared.now_us().saturating_sub(shared.step_start_us.load(Ordering::SeqCst)) as f64;
                let due = ((per_client * elapsed / 1e6) as u64).saturating_sub(my_sent);
                for _ in 0..due {
                    let to = &peers[next_peer % peers.len()];
                    next_peer += 1;
                    let text = candidate(to, my_step, shared.now_us(), &filler);
                    if client.ws.feed(Message::text(text)).await.is_err() {
                        return shared.problem("send failed".into());
                    }
                }
                if due > 0 {
                    if client.ws.flush().await.is_err() {
                        return shared.problem("send failed".into());
                    }
                    my_sent += due;
                    shared.steps[my_step].sent.fetch_add(due, Ordering::Relaxed);
                }
                // Wake about every 4 messages: timer wakeups, not messages, would otherwise cost
                // the most at thousands of clients (5-50 ms; the timestamp is taken at the send).
                let interval_ms = if per_client > 0.0 { (4000.0 / per_client).clamp(5.0, 50.0) } else { 50.0 };
                wake = tokio::time::Instant::now() + Duration::from_micros((interval_ms * 1000.0) as u64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{candidate, number_after};

    #[test]
    fn a_candidate_is_the_json_a_client_sends() {
        let text = candidate("ab", 3, 1234567, "xx");
        assert_eq!(text, r#"42["message",{"type":"candidate","to":"ab","s":3,"t":1234567,"candidate":"xx"}]"#);
        assert_eq!(
            candidate("a", 0, 0, ""),
            r#"42["message",{"type":"candidate","to":"a","s":0,"t":0,"candidate":""}]"#
        );
        let v: serde_json::Value = serde_json::from_str(&text[2..]).unwrap();
        assert_eq!(v[1]["t"], 1234567);
    }

    #[test]
    fn reads_numbers_from_relayed_json_in_any_key_order() {
        let relayed = r#"["message",{"candidate":"xx","from":"a","s":3,"t":123456,"to":"b","type":"candidate"}]"#;
        assert_eq!(number_after(relayed, "\"s\":"), Some(3));
        assert_eq!(number_after(relayed, "\"t\":"), Some(123456));
        assert_eq!(number_after(relayed, "\"q\":"), None);
    }
}
