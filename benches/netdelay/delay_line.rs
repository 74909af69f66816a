//! A delay line in user space, standing in for `tc netem` (this kernel has neither `sch_netem`
//! nor `sch_fq` and cannot load modules): one TUN device per namespace, all on one /24; every IPv4
//! packet read from a TUN is written to the TUN that owns its destination address after a fixed
//! one-way delay, or dropped with a given probability. Packets keep their order (one delay for
//! all, one FIFO).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// `struct ifreq` as TUNSETIFF reads it: the name, then the flags in the union (40 bytes in all).
#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _union_rest: [u8; 22],
}

/// Creates TUN device `name` (raw IPv4/IPv6 packets, no packet-info header) in the calling thread's
/// network namespace; it disappears when the file is closed.
pub fn open_tun(name: &str) -> io::Result<File> {
    let file = std::fs::OpenOptions::new().read(true).write(true).open("/dev/net/tun")?;
    let mut req =
        IfReq { name: [0; libc::IFNAMSIZ], flags: (libc::IFF_TUN | libc::IFF_NO_PI) as _, _union_rest: [0; 22] };
    if name.len() >= libc::IFNAMSIZ {
        return Err(io::Error::other("TUN name too long"));
    }
    for (d, s) in req.name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: a valid fd and a properly sized, initialised ifreq.
    if unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

/// The running forwarder. Its threads live until the process exits (they block in `read`).
pub struct DelayLine {
    delay_us: Arc<AtomicU64>,
    /// Drop probability in parts per million.
    loss_ppm: Arc<AtomicU64>,
    forwarded: Arc<AtomicU64>,
}

impl DelayLine {
    /// Forwards between `tuns` (each with the address it carries), with no delay until
    /// [`DelayLine::set_delay`].
    pub fn start(tuns: Vec<(Ipv4Addr, File)>) -> io::Result<DelayLine> {
        let line = DelayLine { delay_us: Arc::default(), loss_ppm: Arc::default(), forwarded: Arc::default() };
        let owners: Arc<HashMap<Ipv4Addr, usize>> =
            Arc::new(tuns.iter().enumerate().map(|(i, (addr, _))| (*addr, i)).collect());
        let (tx, rx) = mpsc::channel::<(Instant, usize, Vec<u8>)>();
        let mut writers = Vec::new();
        for (i, (_, tun)) in tuns.into_iter().enumerate() {
            writers.push(tun.try_clone()?);
            let (tx, owners, delay, loss) = (tx.clone(), owners.clone(), line.delay_us.clone(), line.loss_ppm.clone());
            std::thread::Builder::new()
                .name(format!("delay-read-{i}"))
                .spawn(move || read_loop(tun, i as u64, &owners, &delay, &loss, &tx))?;
        }
        let forwarded = line.forwarded.clone();
        std::thread::Builder::new().name("delay-write".into()).spawn(move || {
            // One delay for every packet, so the FIFO is in due order.
            for (due, to, packet) in rx {
                let wait = due.saturating_duration_since(Instant::now());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
                if (&writers[to]).write(&packet).is_ok() {
                    forwarded.fetch_add(1, Ordering::Relaxed);
                }
            }
        })?;
        Ok(line)
    }

    /// One-way delay for packets read from now on.
    pub fn set_delay(&self, one_way: Duration) {
        self.delay_us.store(one_way.as_micros() as u64, Ordering::Relaxed);
    }

    /// Probability (0..1) that a packet is dropped.
    pub fn set_loss(&self, probability: f64) {
        self.loss_ppm.store((probability.clamp(0.0, 1.0) * 1e6) as u64, Ordering::Relaxed);
    }

    /// Packets delivered so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }
}

fn read_loop(
    mut tun: File,
    seed: u64,
    owners: &HashMap<Ipv4Addr, usize>,
    delay_us: &AtomicU64,
    loss_ppm: &AtomicU64,
    tx: &mpsc::Sender<(Instant, usize, Vec<u8>)>,
) {
    let mut buf = vec![0u8; 65_536];
    // xorshift64: a reproducible loss pattern per device, no dependency.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (seed + 1);
    while let Ok(n) = tun.read(&mut buf) {
        // IPv4 only (the bench uses no IPv6; the kernel's own v6 chatter is dropped here).
        if n < 20 || buf[0] >> 4 != 4 {
            continue;
        }
        let dst = Ipv4Addr::new(buf[16], buf[17], buf[18], buf[19]);
        let Some(&to) = owners.get(&dst) else { continue };
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if rng % 1_000_000 < loss_ppm.load(Ordering::Relaxed) {
            continue;
        }
        let due = Instant::now() + Duration::from_micros(delay_us.load(Ordering::Relaxed));
        if tx.send((due, to, buf[..n].to_vec())).is_err() {
            return;
        }
    }
}
