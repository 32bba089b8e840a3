fn get(v: &[i32], i: usize) -> i32 {
    v[i]
}
fn main() {
    let v = vec![1, 2, 3];
    let i = std::env::args().count() + 9;
    std::thread::Builder::new().name("worker-1".into()).spawn(move || {
        println!("{}", get(&v, i));
    }).unwrap().join().unwrap();
}
