//! Short-lived TURN credentials (`--turn-secret`, `--turn-urls`): the "TURN REST API" scheme that
//! coturn checks with `use-auth-secret` / `static-auth-secret`. The server never talks to the TURN
//! server; both know the secret. A credential is valid until the time written in its username, so
//! a leaked one expires on its own, and no TURN account has to be created per user.

use base64::Engine;
use p2p_protocol::{IceServers, IssuedIceServer};
use ring::hmac;

pub struct TurnIssuer {
    key: hmac::Key,
    urls: Vec<String>,
    ttl_secs: u64,
}

impl TurnIssuer {
    pub fn new(secret: &str, urls: Vec<String>, ttl_secs: u64) -> TurnIssuer {
        // SHA-1 because that is what the scheme (and coturn) specify; HMAC-SHA1 is not broken by
        // SHA-1's collision attacks.
        TurnIssuer { key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes()), urls, ttl_secs }
    }

    /// Credentials for socket `id`, valid for the configured TTL from `now` (unix seconds).
    pub fn issue(&self, id: &str, now: u64) -> IceServers {
        let username = format!("{}:{id}", now + self.ttl_secs);
        let credential = credential(&self.key, &username);
        IceServers {
            ice_servers: vec![IssuedIceServer { urls: self.urls.clone(), username, credential }],
            ttl: self.ttl_secs,
        }
    }
}

/// base64(HMAC-SHA1(secret, username)).
fn credential(key: &hmac::Key, username: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(key, username.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_is_base64_hmac_sha1_of_the_username() {
        // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?").
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"Jefe");
        assert_eq!(credential(&key, "what do ya want for nothing?"), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
    }

    #[test]
    fn username_carries_the_expiry_and_the_socket_id() {
        let issued = TurnIssuer::new("s3cret", vec!["turn:127.0.0.1:3478".into()], 600).issue("abc", 1_000);
        assert_eq!(issued.ttl, 600);
        let server = &issued.ice_servers[0];
        assert_eq!(server.username, "1600:abc");
        assert_eq!(server.urls, ["turn:127.0.0.1:3478"]);
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"s3cret");
        assert_eq!(server.credential, credential(&key, "1600:abc"));
    }
}
