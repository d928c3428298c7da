//! The shared record of every Get and Put a test made, for porcupine.

use labrt::sync::Mutex;
use porcupine::Operation;
use porcupine::models::kv_versioned::{KvErr, KvInput, KvOutput};

use crate::rpc::{KvError, Version};

/// One recorded operation, in porcupine's versioned KV model.
pub type KvOperation = Operation<KvInput, KvOutput>;

/// An append-only, thread-safe list of recorded operations; never cleared
/// during a test.
#[derive(Default)]
pub struct OpLog {
    operations: Mutex<Vec<KvOperation>>,
}

impl OpLog {
    /// An empty log.
    pub fn new() -> OpLog {
        OpLog::default()
    }

    /// Records one completed operation.
    pub fn append(&self, operation: KvOperation) {
        self.operations.lock().push(operation);
    }

    /// A copy of everything recorded so far.
    pub fn read(&self) -> Vec<KvOperation> {
        self.operations.lock().clone()
    }

    /// How many operations were recorded.
    pub fn len(&self) -> usize {
        self.operations.lock().len()
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The model's error for a clerk's result. The clerk never returns
/// `WrongLeader` or `WrongGroup`; were it to, they are recorded as `ErrNoKey`,
/// which the model, like Go's, treats as illegal for a Put and ignores for a
/// Get.
pub fn model_err<T>(result: &Result<T, KvError>) -> KvErr {
    match result {
        Ok(_) => KvErr::Ok,
        Err(KvError::Version) => KvErr::ErrVersion,
        Err(KvError::Maybe) => KvErr::ErrMaybe,
        Err(KvError::NoKey | KvError::WrongLeader | KvError::WrongGroup) => KvErr::ErrNoKey,
    }
}

/// The model's output for a Get result (value "" and version 0 on an error).
pub fn get_output(result: &Result<(String, Version), KvError>) -> KvOutput {
    match result {
        Ok((value, version)) => KvOutput::get(value.clone(), *version, KvErr::Ok),
        Err(_) => KvOutput::get("", 0, model_err(result)),
    }
}

/// The model's output for a Put result.
pub fn put_output(result: &Result<(), KvError>) -> KvOutput {
    KvOutput::put(model_err(result))
}
