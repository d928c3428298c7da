//! porcupine: work in progress.
