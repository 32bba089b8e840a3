fn depth(n: u64) -> u64 {
    let buf = [n; 64];
    if n == u64::MAX { return buf[3]; }
    depth(n + 1) + buf[(n % 64) as usize]
}
fn main() {
    println!("{}", depth(std::env::args().count() as u64));
}
