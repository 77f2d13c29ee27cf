//! Prints the OpenAPI document (`cargo run -p atum-api --example openapi`), the same one
//! `GET /api/v1/openapi.json` serves, for tools that want it without a running server.

fn main() {
    print!("{}", atum_api::openapi::document());
}
