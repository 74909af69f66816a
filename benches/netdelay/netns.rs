//! Network namespaces the bench makes for itself (`ip netns add`), removed again on drop, and
//! running a piece of code inside one of them.
//!
//! A socket or TUN device belongs to the namespace its creator was in when it was made, whatever
//! thread uses it later; so the bench creates them on a scratch thread that first joins the
//! namespace with `setns` (allowed per thread for network namespaces) and hands them back.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::process::Command;

/// Why the bench cannot run here (not root, no TUN driver, no `ip`, namespaces refused), or `None`.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (ip netns, TUN devices)".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    let probe = format!("p2pnd-probe-{}", std::process::id());
    match Command::new("ip").args(["netns", "add", &probe]).output() {
        Err(e) => return Some(format!("cannot run `ip` (iproute2): {e}")),
        Ok(out) if !out.status.success() => {
            return Some(format!("`ip netns add` failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
        Ok(_) => {}
    }
    let _ = Command::new("ip").args(["netns", "del", &probe]).status();
    None
}

/// Named network namespaces, deleted when dropped.
pub struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    /// `count` fresh namespaces with their loopback up, named after `prefix` and this process.
    pub fn create(prefix: &str, count: usize) -> io::Result<Namespaces> {
        let mut made = Namespaces { names: Vec::new() };
        for i in 0..count {
            let name = format!("{prefix}{}-{i}", std::process::id());
            run(Command::new("ip").args(["netns", "add", &name]))?;
            made.names.push(name);
            made.ip(i, &["link", "set", "lo", "up"])?;
        }
        Ok(made)
    }

    /// `ip -n <namespace i> <args>`, failing with its stderr.
    pub fn ip(&self, i: usize, args: &[&str]) -> io::Result<()> {
        run(Command::new("ip").arg("-n").arg(&self.names[i]).args(args))
    }

    /// A command that runs `program` inside namespace `i` (`ip netns exec` execs it, so the child's
    /// pid is the program's).
    pub fn command(&self, i: usize, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.names[i]]).arg(program);
        c
    }

    /// Runs `f` on a scratch thread that joined namespace `i`: whatever `f` creates (sockets, TUN
    /// devices) lives there.
    pub fn within<T: Send>(&self, i: usize, f: impl FnOnce() -> io::Result<T> + Send) -> io::Result<T> {
        let path = format!("/run/netns/{}", self.names[i]);
        std::thread::scope(|s| {
            s.spawn(|| {
                let ns = File::open(&path)?;
                // SAFETY: a valid namespace fd; setns only changes this scratch thread's namespace.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                f()
            })
            .join()
            .expect("netns scratch thread panicked")
        })
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn run(c: &mut Command) -> io::Result<()> {
    let out = c.output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("{c:?}: {}", String::from_utf8_lossy(&out.stderr).trim())))
    }
}
