//! The test kit: what the tests of every package build the same way.
//!
//! * [`app`]: a registry app on each store (memory, SQLite in a temporary directory,
//!   DynamoDB on a fresh table of the local moto server), an operator with its tokens, a
//!   processed journey;
//! * [`keys`]: the signing key (the one place tests generate RSA keys);
//! * [`api`]: requests built like API Gateway builds them, sent to an app in process;
//! * [`serve`]: `registry serve` as a real process, and HTTP calls to it;
//! * [`moto`]: the local moto server (DynamoDB + SQS) and its clients;
//! * [`docs`]: journey and campaign documents.
//!
//! Dev-only (`publish = false`): a dev-dependency of `registry-core` (its integration tests)
//! and `registry-local` (the top-level `tests/`).

pub mod api;
pub mod app;
pub mod docs;
pub mod keys;
pub mod moto;
pub mod serve;

/// One `#[tokio::test]` per check of a conformance suite (`super::check(fixture.field)` for
/// the fixture `async fn() -> Fixture`): `conformance!(sqlite_store, store => get_put, ...)`.
#[macro_export]
macro_rules! conformance {
    ($fixture:path, $field:ident => $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let fixture = $fixture().await;
                super::$check(fixture.$field.clone()).await;
            }
        )+
    };
}

/// One `#[tokio::test]` per store for an `async fn(Backend)`:
/// `each_store!(check => check_on_sqlite: Sqlite, check_on_dynamodb: DynamoDb);`.
#[macro_export]
macro_rules! each_store {
    ($check:ident => $($name:ident: $backend:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $check($crate::app::Backend::$backend).await;
            }
        )+
    };
}
