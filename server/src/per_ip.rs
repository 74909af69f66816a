//! Counting what each IP address holds open (TCP connections, Socket.IO sessions), so one machine
//! cannot take every file descriptor or fill other people's groups. A slot is a guard: dropping it
//! gives the slot back, so no exit path can leak one.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Open slots per IP address, at most `max` each.
#[derive(Debug)]
pub struct PerIp {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One held slot; released on drop.
#[derive(Debug)]
pub struct Slot {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    pub fn new(max: usize) -> Arc<PerIp> {
        Arc::new(PerIp { max, open: Mutex::new(HashMap::new()) })
    }

    /// Takes a slot for `ip`, or None when it already holds `max`.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock();
        let count = open.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot { owner: self.clone(), ip })
    }

    /// Slots `ip` holds now.
    #[cfg(test)]
    pub fn held(&self, ip: IpAddr) -> usize {
        self.open.lock().get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock();
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_address_and_given_back_on_drop() {
        let per_ip = PerIp::new(2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let s1 = per_ip.acquire(a).unwrap();
        let _s2 = per_ip.acquire(a).unwrap();
        assert!(per_ip.acquire(a).is_none(), "third slot for one address");
        let _other = per_ip.acquire(b).expect("another address has its own slots");
        drop(s1);
        assert_eq!(per_ip.held(a), 1);
        let _s3 = per_ip.acquire(a).expect("a dropped slot is free again");
        assert!(per_ip.acquire(a).is_none());
    }
}
