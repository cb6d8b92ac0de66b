//! DynamoDB adapter (written by the adapters task).
