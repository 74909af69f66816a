//! Optional connection auth (`--jwt-secret`): a client passes `{"token": "<JWT>"}` as the Socket.IO
//! handshake `auth` payload; the server checks it before the connection exists (a refusal is a
//! `connect_error` with the reason, before any event). HS256 only, and the token must expire: a
//! token without `exp` would be a password that never changes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use serde_json::Value;

/// Longest token accepted (a real one is a few hundred bytes).
const MAX_TOKEN_BYTES: usize = 4096;

/// Checks HS256 JWTs signed with one shared secret.
pub struct JwtVerifier {
    key: hmac::Key,
}

impl JwtVerifier {
    pub fn new(secret: &str) -> JwtVerifier {
        JwtVerifier { key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()) }
    }

    /// Checks the handshake `auth` payload at `now` (Unix seconds); the error is the reason the
    /// client is told.
    pub fn check(&self, auth: Option<&Value>, now: u64) -> Result<(), &'static str> {
        let token = auth
            .and_then(|a| a.get("token"))
            .and_then(Value::as_str)
            .ok_or("missing token: pass {\"token\": \"<jwt>\"} as auth")?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err("malformed token");
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("malformed token");
        };
        let json = |part: &str| -> Option<Value> { serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok() };
        let header = json(header).ok_or("malformed token")?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err("unsupported token algorithm (HS256 only)");
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| "malformed token")?;
        let signed = &token[..token.len() - token.rsplit('.').next().map_or(0, str::len) - 1];
        hmac::verify(&self.key, signed.as_bytes(), &signature).map_err(|_| "invalid token signature")?;
        let claims = json(payload).ok_or("malformed token")?;
        let exp = claims.get("exp").and_then(Value::as_u64).ok_or("the token has no exp")?;
        if exp <= now {
            return Err("token expired");
        }
        if claims.get("nbf").and_then(Value::as_u64).is_some_and(|nbf| nbf > now) {
            return Err("token not yet valid");
        }
        Ok(())
    }
}

/// Signs `claims` with `secret` (HS256), as the app's backend would.
#[cfg(test)]
pub fn sign(secret: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_checked() {
        let v = JwtVerifier::new("s3cret");
        let auth = |t: String| json!({ "token": t });
        assert_eq!(v.check(Some(&auth(sign("s3cret", &json!({"sub": "u", "exp": 2000})))), 1000), Ok(()));
        assert_eq!(v.check(None, 1000), Err("missing token: pass {\"token\": \"<jwt>\"} as auth"));
        assert_eq!(
            v.check(Some(&json!({"token": 5})), 1000).unwrap_err(),
            "missing token: pass {\"token\": \"<jwt>\"} as auth"
        );
        assert_eq!(v.check(Some(&auth(sign("other", &json!({"exp": 2000})))), 1000), Err("invalid token signature"));
        assert_eq!(v.check(Some(&auth(sign("s3cret", &json!({"exp": 999})))), 1000), Err("token expired"));
        assert_eq!(
            v.check(Some(&auth(sign("s3cret", &json!({"exp": 2000, "nbf": 1500})))), 1000),
            Err("token not yet valid")
        );
        assert_eq!(v.check(Some(&auth(sign("s3cret", &json!({"sub": "forever"})))), 1000), Err("the token has no exp"));
        assert_eq!(v.check(Some(&auth("a.b".into())), 1000), Err("malformed token"));
        assert_eq!(v.check(Some(&auth("x".repeat(5000))), 1000), Err("malformed token"));
        // alg "none" with the signature stripped, and a payload swapped under a valid signature.
        let none =
            format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(br#"{"exp":2000}"#));
        assert_eq!(v.check(Some(&auth(none)), 1000), Err("unsupported token algorithm (HS256 only)"));
        let good = sign("s3cret", &json!({"sub": "a", "exp": 2000}));
        let mut parts: Vec<&str> = good.split('.').collect();
        let swapped = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","exp":2000}"#);
        parts[1] = &swapped;
        assert_eq!(v.check(Some(&auth(parts.join("."))), 1000), Err("invalid token signature"));
    }
}
