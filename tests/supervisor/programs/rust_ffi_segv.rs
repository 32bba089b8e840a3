// A Rust program whose linked C code (rust_ffi_segv_c.c) dies of SIGSEGV:
// main -> handler::handle_request -> handler::store -> c_store (C).
// Builds with rustc 1.63 (Debian) and later.
extern "C" {
    fn c_store(value: i32);
}

// Reads through a volatile so that the optimiser keeps every call where it
// is (no tail call, no constant folding).
fn opaque(value: i32) -> i32 {
    unsafe { std::ptr::read_volatile(&value) }
}

mod handler {
    #[inline(never)]
    pub fn store(value: i32) -> i32 {
        unsafe { super::c_store(value) };
        super::opaque(value)
    }

    #[inline(never)]
    pub fn handle_request(id: i32) -> i32 {
        let stored = store(id * 2);
        super::opaque(stored + id)
    }
}

fn main() {
    println!("rust_ffi_segv: handling");
    let result = handler::handle_request(opaque(21));
    println!("rust_ffi_segv: not reached {}", result);
}
