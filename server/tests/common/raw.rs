//! A Socket.IO client by hand over a raw websocket, for tests that send exact packet texts (the
//! encodings a library client would never produce) and read the server's frames as they are.

use std::io::{Read, Write};
use std::net::TcpStream;

/// Opens a websocket to the Socket.IO endpoint by hand and returns the stream after the upgrade.
pub fn raw_websocket(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    s
}

/// A client frame header (masked, with an all-zero key so the payload goes as is).
pub fn frame_header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
    let mut h = vec![(if fin { 0x80 } else { 0 }) | opcode];
    if len < 126 {
        h.push(0x80 | len as u8);
    } else if len <= u16::MAX as u64 {
        h.push(0x80 | 126);
        h.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        h.push(0x80 | 127);
        h.extend_from_slice(&len.to_be_bytes());
    }
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

/// Sends one masked text frame.
pub fn send_text(s: &mut TcpStream, text: &str) -> std::io::Result<()> {
    let mut frame = frame_header(true, 1, text.len() as u64);
    frame.extend_from_slice(text.as_bytes());
    s.write_all(&frame)
}

/// Reads the next server text frame that is not an engine.io ping (answered with a pong).
pub fn read_text(s: &mut TcpStream) -> String {
    loop {
        let text = read_frame(s);
        if text != "2" {
            return text;
        }
        send_text(s, "3").unwrap();
    }
}

/// Reads one server text frame (unmasked; only lengths up to 64 KiB are expected here).
pub fn read_frame(s: &mut TcpStream) -> String {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).unwrap();
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            s.read_exact(&mut ext).unwrap();
            u16::from_be_bytes(ext) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).unwrap();
    assert_eq!(head[0] & 0x0f, 1, "a text frame: {payload:?}");
    String::from_utf8(payload).unwrap()
}

/// The next server text frame that is not a ping, or `None` if none comes within `wait`.
pub fn read_text_within(s: &mut TcpStream, wait: std::time::Duration) -> Option<String> {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut head = [0u8; 1];
    let seen = s.peek(&mut head).ok().filter(|n| *n > 0).map(|_| read_text(s));
    s.set_read_timeout(None).unwrap();
    seen
}

/// A raw client connected to the main namespace: the stream and its socket id (`whoami`).
pub fn raw_client(addr: &str) -> (TcpStream, String) {
    let mut s = raw_websocket(addr);
    assert!(read_text(&mut s).starts_with("0{"), "engine.io open");
    send_text(&mut s, "40").unwrap();
    assert!(read_text(&mut s).starts_with("40{"), "namespace connected");
    send_text(&mut s, r#"420["whoami"]"#).unwrap();
    let reply = read_text(&mut s);
    let body: serde_json::Value = serde_json::from_str(reply.strip_prefix("430").expect(&reply)).unwrap();
    let id = body[0]["id"].as_str().expect(&reply).to_string();
    (s, id)
}
