//! Server configuration from flags and environment variables (flags win). Kept dependency-free: a
//! dozen options do not need an argument-parsing crate.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// tracing filter, e.g. "warn" (the default) or "p2p_signaling=debug".
    pub logging: String,
    /// Allowed CORS origin; `*` (the default) allows any origin without credentials.
    pub cors_origin: String,
    pub cors_credentials: bool,
    /// Members per group, host included.
    pub max_group_size: usize,
    /// Largest accepted event, in bytes of its JSON as received (event name included).
    pub max_payload_bytes: usize,
    /// Sustained events per second per socket, and the burst above it.
    pub rate_per_sec: f64,
    pub rate_burst: f64,
    /// Most concurrent Socket.IO connections; more are refused at connect.
    pub max_connections: usize,
    /// Most concurrent Socket.IO connections from one IP address, so one machine cannot fill
    /// other people's groups (64 members) or the server.
    pub max_sockets_per_ip: usize,
    /// Most open TCP connections from one IP address (unfinished requests included).
    pub max_tcp_per_ip: usize,
    /// How long a client may take to send a request's headers (slowloris), and to send its first
    /// request on a new connection, in milliseconds.
    pub header_timeout_ms: u64,
    /// Most groups one `list hosts` reply carries (the oldest first); `total` says how many exist.
    pub max_listed_hosts: usize,
    /// How long SIGTERM waits for connections to close before the process exits anyway.
    pub shutdown_timeout_ms: u64,
    /// When set, every connection must carry `{"token": "<HS256 JWT signed with this>"}` as its
    /// handshake auth (docs in server/README.md). Off by default.
    pub jwt_secret: Option<String>,
    /// When set (with `turn_urls`), clients get short-lived TURN credentials (server/src/turn.rs).
    pub turn_secret: Option<String>,
    /// `turn:`/`turns:` URLs the credentials are for.
    pub turn_urls: Vec<String>,
    /// How long issued TURN credentials stay valid, in seconds.
    pub turn_ttl_secs: u64,
    /// When set, this node shares its groups and Socket.IO traffic with every other node on the
    /// same Redis (server/README.md, "Several nodes"). Off by default: groups live in memory.
    pub redis_url: Option<String>,
    /// PEM certificate chain and private key: with both, the server speaks https/wss (rustls).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Threads of the async runtime (the binary's; the library runs on its caller's runtime).
    pub workers: usize,
}

/// The default number of runtime threads: two per CPU. A signaling server mostly shares its
/// machine (a TURN server, Redis, a proxy, the load generator in our benchmark), and with one
/// thread per CPU a thread the kernel preempts or stacks on the other's CPU holds the tasks it has
/// queued (the one it will run next cannot be stolen by another thread) until it runs again: near
/// the ceiling on 2 CPUs, p99 halved going from 2 threads to 4 at the same CPU per relay
/// (docs/performance.md, "Session 14"). An idle thread sleeps and costs no CPU.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) * 2
}

/// The most runtime threads `--workers` accepts.
pub const MAX_WORKERS: usize = 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:3010".parse().unwrap(),
            logging: "warn".into(),
            cors_origin: "*".into(),
            cors_credentials: false,
            max_group_size: 64,
            max_payload_bytes: 64 * 1024,
            rate_per_sec: 100.0,
            rate_burst: 200.0,
            max_connections: 10_000,
            max_sockets_per_ip: 16,
            max_tcp_per_ip: 32,
            header_timeout_ms: 10_000,
            max_listed_hosts: 200,
            shutdown_timeout_ms: 5_000,
            jwt_secret: None,
            turn_secret: None,
            turn_urls: Vec::new(),
            turn_ttl_secs: 3600,
            redis_url: None,
            tls_cert: None,
            tls_key: None,
            workers: default_workers(),
        }
    }
}

pub const USAGE: &str = "\
p2p-signaling: signaling server for webrtc_p2p groups (Extreal P2P protocol)

Options (environment variable in brackets; flags win):
  --bind ADDR:PORT            listen address [SIGNALING_BIND] (127.0.0.1:3010)
  --logging FILTER            tracing filter [SIGNALING_LOGGING] (warn)
  --cors-origin ORIGIN        allowed CORS origin, * for any [SIGNALING_CORS_ORIGIN] (*)
  --cors-credentials BOOL     allow credentials [SIGNALING_CORS_CREDENTIALS] (false)
  --max-group-size N          members per group, host included [SIGNALING_MAX_GROUP_SIZE] (64)
  --max-payload-bytes N       largest event payload [SIGNALING_MAX_PAYLOAD_BYTES] (65536)
  --rate-per-sec N            events per second per socket [SIGNALING_RATE_PER_SEC] (100)
  --rate-burst N              burst above the rate [SIGNALING_RATE_BURST] (200)
  --max-connections N         concurrent connections [SIGNALING_MAX_CONNECTIONS] (10000)
  --max-sockets-per-ip N      concurrent connections from one IP [SIGNALING_MAX_SOCKETS_PER_IP] (16)
  --max-tcp-per-ip N          open TCP connections from one IP [SIGNALING_MAX_TCP_PER_IP] (32)
  --header-timeout-ms N       time to send request headers [SIGNALING_HEADER_TIMEOUT_MS] (10000)
  --max-listed-hosts N        groups in one list hosts reply [SIGNALING_MAX_LISTED_HOSTS] (200)
  --shutdown-timeout-ms N     SIGTERM waits at most this long [SIGNALING_SHUTDOWN_TIMEOUT_MS] (5000)
  --jwt-secret SECRET         require an HS256 JWT as handshake auth [SIGNALING_JWT_SECRET] (off)
  --turn-secret SECRET        issue TURN REST credentials with this shared secret [SIGNALING_TURN_SECRET] (off)
  --turn-urls URL,URL         the TURN servers they are for, turn: or turns: [SIGNALING_TURN_URLS]
  --turn-ttl-secs N           how long issued credentials are valid [SIGNALING_TURN_TTL_SECS] (3600)
  --redis-url URL             share groups with other nodes through Redis [SIGNALING_REDIS_URL] (off)
  --tls-cert FILE             PEM certificate chain: serve https/wss [SIGNALING_TLS_CERT] (off)
  --tls-key FILE              PEM private key of --tls-cert [SIGNALING_TLS_KEY] (off)
  --workers N                 runtime threads, 1 to 1024 [SIGNALING_WORKERS] (two per CPU)
  --help                      this text
";

fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("{name}: cannot parse {value:?}"))
}

fn positive(name: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{name} must be > 0"))
    }
}

/// A comma-separated list of `turn:`/`turns:` URLs.
fn turn_urls(value: &str) -> Result<Vec<String>, String> {
    let urls: Vec<String> = value.split(',').map(str::trim).filter(|u| !u.is_empty()).map(String::from).collect();
    match urls.iter().find(|u| !(u.starts_with("turn:") || u.starts_with("turns:"))) {
        Some(bad) => Err(format!("--turn-urls: {bad:?} is not a turn: or turns: URL")),
        None if urls.is_empty() => Err("--turn-urls needs at least one URL".into()),
        None => Ok(urls),
    }
}

impl Config {
    /// Reads `env` first, then `args` (without the program name).
    pub fn from_sources(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let mut c = Config::default();
        let set = |c: &mut Config, key: &str, value: &str| -> Result<(), String> {
            match key {
                "bind" => c.bind = parse(key, value)?,
                "logging" => c.logging = value.to_string(),
                "cors-origin" => c.cors_origin = value.to_string(),
                "cors-credentials" => c.cors_credentials = value == "true" || value == "1",
                "max-group-size" => c.max_group_size = parse(key, value)?,
                "max-payload-bytes" => c.max_payload_bytes = parse(key, value)?,
                "rate-per-sec" => c.rate_per_sec = positive(key, parse(key, value)?)?,
                "rate-burst" => c.rate_burst = positive(key, parse(key, value)?)?,
                "max-connections" => c.max_connections = parse(key, value)?,
                "max-sockets-per-ip" => c.max_sockets_per_ip = parse(key, value)?,
                "max-tcp-per-ip" => c.max_tcp_per_ip = parse(key, value)?,
                "header-timeout-ms" => c.header_timeout_ms = parse(key, value)?,
                "max-listed-hosts" => c.max_listed_hosts = parse(key, value)?,
                "shutdown-timeout-ms" => c.shutdown_timeout_ms = parse(key, value)?,
                "jwt-secret" if value.is_empty() => return Err("--jwt-secret must not be empty".into()),
                "jwt-secret" => c.jwt_secret = Some(value.to_string()),
                "turn-secret" if value.is_empty() => return Err("--turn-secret must not be empty".into()),
                "turn-secret" => c.turn_secret = Some(value.to_string()),
                "turn-urls" => c.turn_urls = turn_urls(value)?,
                "turn-ttl-secs" => c.turn_ttl_secs = parse(key, value)?,
                "redis-url" => c.redis_url = Some(value.to_string()),
                "tls-cert" => c.tls_cert = Some(value.into()),
                "tls-key" => c.tls_key = Some(value.into()),
                "workers" => c.workers = parse(key, value)?,
                _ => return Err(format!("unknown option --{key}\n\n{USAGE}")),
            }
            Ok(())
        };
        const KEYS: [&str; 22] = [
            "bind",
            "logging",
            "cors-origin",
            "cors-credentials",
            "max-group-size",
            "max-payload-bytes",
            "rate-per-sec",
            "rate-burst",
            "max-connections",
            "max-sockets-per-ip",
            "max-tcp-per-ip",
            "header-timeout-ms",
            "max-listed-hosts",
            "shutdown-timeout-ms",
            "jwt-secret",
            "turn-secret",
            "turn-urls",
            "turn-ttl-secs",
            "redis-url",
            "tls-cert",
            "tls-key",
            "workers",
        ];
        for key in KEYS {
            let var = format!("SIGNALING_{}", key.to_uppercase().replace('-', "_"));
            if let Some(value) = env(&var).filter(|v| !v.is_empty()) {
                set(&mut c, key, &value)?;
            }
        }
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--help" || arg == "-h" {
                return Err(USAGE.to_string());
            }
            let Some(key) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}\n\n{USAGE}"));
            };
            let (key, value) = match key.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (key.to_string(), it.next().ok_or_else(|| format!("--{key} needs a value"))?.clone()),
            };
            set(&mut c, &key, &value)?;
        }
        if c.max_group_size < 2 {
            return Err("max-group-size must be at least 2".into());
        }
        if c.max_payload_bytes < 1024 {
            return Err("max-payload-bytes must be at least 1024".into());
        }
        if c.max_sockets_per_ip == 0 || c.max_tcp_per_ip == 0 || c.max_listed_hosts == 0 || c.header_timeout_ms == 0 {
            return Err("max-sockets-per-ip, max-tcp-per-ip, max-listed-hosts and header-timeout-ms must be > 0".into());
        }
        if c.turn_secret.is_some() == c.turn_urls.is_empty() {
            return Err("--turn-secret and --turn-urls go together".into());
        }
        if c.turn_ttl_secs == 0 {
            return Err("turn-ttl-secs must be > 0".into());
        }
        if !(1..=MAX_WORKERS).contains(&c.workers) {
            return Err(format!("workers must be 1 to {MAX_WORKERS}"));
        }
        if c.tls_cert.is_some() != c.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together".into());
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_env_and_flags() {
        let c = Config::from_sources(&[], |_| None).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:3010");
        let c = Config::from_sources(&args(&["--bind", "127.0.0.1:0", "--max-group-size=3"]), |k| {
            (k == "SIGNALING_MAX_GROUP_SIZE").then(|| "9".to_string())
        })
        .unwrap();
        assert_eq!(c.max_group_size, 3, "flags win over env");
        assert_eq!(c.bind.port(), 0);
        let c = Config::from_sources(&[], |k| (k == "SIGNALING_CORS_CREDENTIALS").then(|| "true".into())).unwrap();
        assert!(c.cors_credentials);
        assert_eq!(c.workers, 2 * std::thread::available_parallelism().unwrap().get(), "two per CPU");
        let c = Config::from_sources(&args(&["--workers", "3"]), |_| None).unwrap();
        assert_eq!(c.workers, 3);
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in [
            &["--bind", "nope"][..],
            &["--max-group-size", "1"],
            &["--rate-per-sec", "0"],
            &["--max-tcp-per-ip", "0"],
            &["--what", "1"],
            &["--turn-secret", "s"],
            &["--turn-urls", "turn:127.0.0.1:3478"],
            &["--turn-secret", "s", "--turn-urls", "stun:127.0.0.1:3478"],
            &["--turn-secret", "s", "--turn-urls", "turn:x", "--turn-ttl-secs", "0"],
            &["stray"],
            &["--bind"],
            &["--tls-cert", "cert.pem"],
            &["--tls-key", "key.pem"],
            &["--workers", "0"],
            &["--workers", "1025"],
            &["--workers", "-1"],
        ] {
            assert!(Config::from_sources(&args(bad), |_| None).is_err(), "{bad:?}");
        }
    }
}
