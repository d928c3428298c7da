//! Why a call did not return a reply.

/// Why [`crate::ClientEnd::call`] returned no reply. Every variant is a
/// network failure a caller should treat as "no answer" and may retry; they
/// are told apart only to make logs and tests clearer. Go's labrpc folds them
/// all into `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The network was cleaned up before the call was accepted.
    #[error("the network has been cleaned up")]
    NetworkClosed,
    /// The end is disabled, deleted or unconnected, or no server is registered
    /// under the name it is connected to. The request was never delivered.
    #[error("the server is unreachable from this end")]
    Unreachable,
    /// Unreliable mode lost the request; the handler never ran.
    #[error("the request was lost")]
    RequestLost,
    /// Unreliable mode lost the reply; the handler ran and its effects stand.
    #[error("the reply was lost")]
    ReplyLost,
    /// While the handler ran, its server was deleted or replaced, or the end
    /// was disabled: whatever the handler did, its reply is discarded.
    #[error("the server died or the end was cut while the call was in flight")]
    ServerDead,
}
