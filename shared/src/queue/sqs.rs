//! SQS adapter (written by the adapters task).
