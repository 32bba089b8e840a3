use std::env;

struct Config {
    port: u16,
}

fn parse_port(s: &str) -> Config {
    let port: u16 = s.parse().expect("port must be a number");
    Config { port }
}

fn main() {
    let arg = env::args().next().unwrap_or_default();
    let c = parse_port(&arg);
    println!("{}", c.port);
}
