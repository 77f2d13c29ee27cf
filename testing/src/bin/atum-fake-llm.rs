//! The fake language model server on its own, for the browser tests:
//! `atum-fake-llm [ADDR]` (127.0.0.1:18190 by default) serves until it is killed.
//! What it answers: `atum_testing::fake_llm`.

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18190".into());
    let fake = atum_testing::fake_llm::FakeLlm::serve(&addr);
    println!("fake language model on {}", fake.url);
    loop {
        std::thread::park();
    }
}
