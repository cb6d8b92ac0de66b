//! In-memory queue for unit tests.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Delivery, Message, Queue, QueueError, QueueResult, DEFAULT_MAX_RECEIVES};

struct Entry {
    id: u64,
    body: String,
    visible_at: Instant,
    receive_count: u32,
    receipt: Option<String>,
    dead: bool,
}

pub struct MemoryQueue {
    max_receives: u32,
    state: Mutex<(u64, Vec<Entry>)>,
}

impl Default for MemoryQueue {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_RECEIVES)
    }
}

impl MemoryQueue {
    pub fn new(max_receives: u32) -> Self {
        MemoryQueue {
            max_receives,
            state: Mutex::new((0, Vec::new())),
        }
    }

    fn lock(&self) -> QueueResult<std::sync::MutexGuard<'_, (u64, Vec<Entry>)>> {
        self.state
            .lock()
            .map_err(|_| QueueError::Unavailable("memory queue poisoned".into()))
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, messages: Vec<Message>) -> QueueResult<()> {
        let mut state = self.lock()?;
        let now = Instant::now();
        for m in messages {
            state.0 += 1;
            let id = state.0;
            state.1.push(Entry {
                id,
                body: m.body,
                visible_at: now,
                receive_count: 0,
                receipt: None,
                dead: false,
            });
        }
        Ok(())
    }

    async fn receive(&self, max: usize, visibility: Duration) -> QueueResult<Vec<Delivery>> {
        let mut state = self.lock()?;
        let now = Instant::now();
        let mut out = Vec::new();
        for e in state
            .1
            .iter_mut()
            .filter(|e| !e.dead && e.visible_at <= now)
        {
            if e.receive_count >= self.max_receives {
                e.dead = true;
                continue;
            }
            if out.len() >= max {
                break;
            }
            e.receive_count += 1;
            e.visible_at = now + visibility;
            let receipt = format!("{}:{}", e.id, e.receive_count);
            e.receipt = Some(receipt.clone());
            out.push(Delivery {
                receipt,
                body: e.body.clone(),
                receive_count: e.receive_count,
            });
        }
        Ok(out)
    }

    async fn ack(&self, receipt: &str) -> QueueResult<()> {
        let mut state = self.lock()?;
        state.1.retain(|e| e.receipt.as_deref() != Some(receipt));
        Ok(())
    }

    async fn dead_letters(&self, max: usize) -> QueueResult<Vec<Delivery>> {
        let state = self.lock()?;
        Ok(state
            .1
            .iter()
            .filter(|e| e.dead)
            .take(max)
            .map(|e| Delivery {
                receipt: e.receipt.clone().unwrap_or_default(),
                body: e.body.clone(),
                receive_count: e.receive_count,
            })
            .collect())
    }
}
