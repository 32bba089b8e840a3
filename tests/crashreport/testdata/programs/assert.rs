fn check(v: usize) {
    assert_eq!(v, 1, "values differ");
}
fn main() {
    check(std::env::args().count() + 1);
}
