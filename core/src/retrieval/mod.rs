//! Retrieval: finding the passage that answers a question, among published articles
//! and solved tickets. [`chunk`] cuts sources into passages, [`index`] keeps
//! `kb_chunks` in step with them (run by atum-rag-worker and `atum kb reindex`),
//! [`search`] ranks passages by several retrievers and [`rrf`] fuses their rankings.

pub mod chunk;
pub mod index;
pub mod rrf;
pub mod search;
