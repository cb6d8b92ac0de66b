//! CEE applications (energy-savings certificates, cee.md): who already benefited, on any
//! platform, and the registry's signed token. Handlers are in `api/cee/`.

pub mod errorlog;
pub mod history;
pub mod imports;
#[cfg(test)]
mod properties;
