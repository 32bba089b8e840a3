// A Rust program that panics (unwinding, exit status 101):
// main -> parse_port -> Result::expect. Builds with rustc 1.63 and later.
use std::env;

#[inline(never)]
fn parse_port(s: &str) -> u16 {
    s.parse().expect("port must be a number") // PANIC-LINE
}

fn main() {
    let arg = env::args().nth(1).unwrap_or_else(|| "eighty".to_string());
    println!("rust_panic: parsing {}", arg);
    let port = parse_port(&arg);
    println!("rust_panic: port {}", port);
}
