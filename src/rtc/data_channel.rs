//! Our data channel: a label fetched once, plain byte sends, and events as an async stream.

use crate::error::{P2pError, Result};
use bytes::BytesMut;
use std::sync::Arc;
use webrtc::data_channel::{
    DataChannel as RtcDataChannel, DataChannelEvent as RtcEvent, RTCDataChannelInit, RTCDataChannelState,
};

/// Options of a new data channel; the default is reliable and ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChannelInit {
    /// Deliver in order (the default).
    pub ordered: bool,
    /// Unreliable: give up after this many retransmits (exclusive with `max_packet_life_time_ms`).
    pub max_retransmits: Option<u16>,
    /// Unreliable: give up after this many milliseconds.
    pub max_packet_life_time_ms: Option<u16>,
    /// Pre-negotiated stream id (both sides create the channel with the same id; no `datachannel` event).
    pub negotiated_id: Option<u16>,
    /// Sub-protocol name (empty: none).
    pub protocol: String,
}

impl Default for DataChannelInit {
    fn default() -> Self {
        DataChannelInit {
            ordered: true,
            max_retransmits: None,
            max_packet_life_time_ms: None,
            negotiated_id: None,
            protocol: String::new(),
        }
    }
}

impl DataChannelInit {
    pub(crate) fn to_rtc(&self) -> Result<RTCDataChannelInit> {
        if self.max_retransmits.is_some() && self.max_packet_life_time_ms.is_some() {
            return Err(P2pError::InvalidArgument("maxRetransmits and maxPacketLifeTime are exclusive".into()));
        }
        Ok(RTCDataChannelInit {
            ordered: self.ordered,
            max_retransmits: self.max_retransmits,
            max_packet_life_time: self.max_packet_life_time_ms,
            negotiated: self.negotiated_id,
            protocol: self.protocol.clone(),
        })
    }
}

/// `readyState` of a channel (the C ABI numbers it in `ffi::codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataChannelState {
    /// Not open yet.
    Connecting,
    /// Messages can be sent.
    Open,
    /// Closing; nothing more is sent.
    Closing,
    /// Closed for good.
    Closed,
}

/// What a channel reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataChannelEvent {
    /// The channel opened.
    Open,
    /// A message arrived.
    Message {
        /// Its bytes (UTF-8 when `is_text`).
        data: Vec<u8>,
        /// Sent as a string rather than binary.
        is_text: bool,
    },
    /// The buffered amount fell to the low threshold: sending may go on.
    BufferedAmountLow,
    /// The channel failed.
    Error,
    /// The channel closed.
    Close,
}

/// A data channel of one peer connection.
pub struct DataChannel {
    inner: Arc<dyn RtcDataChannel>,
    label: String,
}

impl std::fmt::Debug for DataChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataChannel").field("label", &self.label).finish()
    }
}

fn rtc_err(e: impl std::error::Error + Send + Sync + 'static) -> P2pError {
    P2pError::Rtc(crate::error::Cause::of(e))
}

impl DataChannel {
    pub(crate) async fn wrap(inner: Arc<dyn RtcDataChannel>) -> DataChannel {
        let label = inner.label().await.unwrap_or_default();
        DataChannel { inner, label }
    }

    /// The channel's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Sends binary data. Never waits for the peer; data is queued in SCTP.
    pub async fn send(&self, data: &[u8]) -> Result<()> {
        self.inner.send(BytesMut::from(data)).await.map_err(rtc_err)
    }

    /// Sends a text message (delivered as a string to browsers).
    pub async fn send_text(&self, text: &str) -> Result<()> {
        self.inner.send_text(text).await.map_err(rtc_err)
    }

    /// The channel's state now.
    pub async fn ready_state(&self) -> DataChannelState {
        match self.inner.ready_state().await {
            Ok(RTCDataChannelState::Open) => DataChannelState::Open,
            Ok(RTCDataChannelState::Closing) => DataChannelState::Closing,
            Ok(RTCDataChannelState::Closed) | Err(_) => DataChannelState::Closed,
            Ok(_) => DataChannelState::Connecting,
        }
    }

    /// Bytes handed to `send` that the peer has not acknowledged yet.
    pub async fn buffered_amount(&self) -> usize {
        self.inner.outstanding_bytes().await.unwrap_or(0)
    }

    /// When the buffered amount falls to `bytes`, [`DataChannelEvent::BufferedAmountLow`] fires.
    pub async fn set_buffered_amount_low_threshold(&self, bytes: u32) -> Result<()> {
        self.inner.set_buffered_amount_low_threshold(bytes).await.map_err(rtc_err)
    }

    /// Closes the channel. Idempotent, as `RTCDataChannel.close()` is: closing a channel that is
    /// already closing or closed (by either side, or with its connection) succeeds.
    pub async fn close(&self) -> Result<()> {
        if matches!(self.ready_state().await, DataChannelState::Closing | DataChannelState::Closed) {
            return Ok(());
        }
        match self.inner.close().await {
            Ok(()) => Ok(()),
            Err(_) if self.ready_state().await != DataChannelState::Open => Ok(()),
            Err(e) => Err(rtc_err(e)),
        }
    }

    /// The next event; `None` when the channel (or its connection) is gone. Only one task should
    /// consume a channel's events.
    pub async fn next_event(&self) -> Option<DataChannelEvent> {
        loop {
            let event = self.inner.poll().await?;
            return Some(match event {
                RtcEvent::OnOpen => DataChannelEvent::Open,
                RtcEvent::OnMessage(m) => DataChannelEvent::Message { data: m.data.to_vec(), is_text: m.is_string },
                RtcEvent::OnBufferedAmountLow => DataChannelEvent::BufferedAmountLow,
                RtcEvent::OnError => DataChannelEvent::Error,
                RtcEvent::OnClose => DataChannelEvent::Close,
                _ => continue,
            });
        }
    }
}
